"""Media's event: an upload finished processing (or failed). Registered in `MediaConfig.ready()`."""

from __future__ import annotations

from rest_framework import serializers

from media.serializers import MediaSerializer
from notifications.catalogue import EventType


class MediaReadyPayloadSerializer(serializers.Serializer):
    media = MediaSerializer(help_text="`status` ready (with its variants) or failed: the app stops waiting either way.")


MEDIA_READY = EventType(
    name="media.ready",
    summary="Your upload was processed: its variants are ready, or it failed.",
    payload=MediaReadyPayloadSerializer,
    audience="the uploader",
)

EVENT_TYPES = (MEDIA_READY,)

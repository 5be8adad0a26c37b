from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from media.models import Media, MediaStatus, variant_urls
from server.api.fields import IdField


def media_representation(media: Media) -> dict[str, Any]:
    """One image as every endpoint shows it. Reads only the row itself, so a feed page with
    its Media rows prefetched renders all its images without a query."""
    return media_values_representation(
        media_id=media.pk, status=media.status, width=media.width, height=media.height, blurhash=media.blurhash
    )


def media_values_representation(*, media_id: int, status: str, width: int, height: int, blurhash: str) -> dict[str, Any]:
    """The same from the row's values (a feed page reads its images as JSON, not as instances)."""
    return {
        "id": media_id,
        "status": status,
        "variants": variant_urls(media_id, status),
        "width": width or None,
        "height": height or None,
        "blurhash": blurhash or None,
    }


class MediaVariantsSerializer(serializers.Serializer):
    thumbnail = serializers.CharField(help_text="320 px on the longest side. Path of the authorising view; send the bearer token.")
    large = serializers.CharField(help_text="1280 px on the longest side.")


class MediaSerializer(serializers.Serializer):
    """Shape only; the values come from `media_representation`."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MediaStatus.choices)
    variants = serializers.SerializerMethodField()
    width = serializers.IntegerField(allow_null=True, help_text="Upright width of the picture (orientation applied).")
    height = serializers.IntegerField(allow_null=True)
    blurhash = serializers.CharField(allow_null=True, help_text="Placeholder to paint while loading; null until ready.")

    @extend_schema_field(MediaVariantsSerializer(allow_null=True))
    def get_variants(self, media: Media) -> dict[str, str] | None:
        return media.variant_urls()

    def to_representation(self, instance: Media) -> dict[str, Any]:
        return media_representation(instance)


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="JPEG, PNG, WebP, HEIC/HEIF or GIF; at most 15 MB and 40 megapixels.")


class AvatarSetSerializer(serializers.Serializer):
    media_id = IdField(help_text="An upload of yours, not used elsewhere.")

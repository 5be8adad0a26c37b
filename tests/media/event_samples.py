"""Samples of media's event for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from media import services as media
from tests.media.images import phone_jpeg


def media_ready(world) -> None:
    world.settings.MEDIA_ROOT = str(world.tmp_path / "uploads")
    world.settings.STORAGES = {**world.settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    media.media_upload(owner=world.employee, upload=SimpleUploadedFile("photo.jpg", phone_jpeg(), content_type="image/jpeg"))


SAMPLES = {"media.ready": media_ready}

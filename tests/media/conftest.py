import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    # Every test writes its uploads and variants to its own folder.
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    settings.MEDIA_VARIANT_FORMAT = "webp"
    settings.MEDIA_SERVE_REDIRECT = False
    # Factories hash a password per user; Argon2 makes that the slowest part of these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def upload(api, django_capture_on_commit_callbacks):
    """POST /media as `user` and run what the commit would have queued (the processing task)."""

    def post(user, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        client = api(user)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/media", {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart")

    return post

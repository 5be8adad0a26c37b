"""POST /api/v1/media: limits, formats, processing after commit, the media.ready event."""

import io
import os
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from media.models import Media, MediaStatus
from tests.media import images


@pytest.fixture
def events(monkeypatch):
    captured = []
    monkeypatch.setattr("media.services.emit", lambda event_type, /, **event: captured.append({"type": event_type.name, **event}))
    return captured


def stored_files(settings) -> list[str]:
    found = []
    for root, _dirs, files in os.walk(settings.MEDIA_ROOT):
        found += [os.path.join(root, name) for name in files]
    return found


def detail(api, user, media_id: int) -> dict:
    return api(user).get(f"/api/v1/media/{media_id}").json()


def test_a_phone_photo_becomes_ready_with_variants_and_no_original(upload, api, employee, settings, events):
    response = upload(employee, images.phone_jpeg())

    assert response.status_code == 201, response.json()
    media = Media.objects.get(pk=response.json()["id"])
    assert detail(api, employee, media.pk) == {
        "id": media.pk,
        "status": "ready",
        "variants": {"thumbnail": f"/api/v1/media/{media.pk}/thumbnail", "large": f"/api/v1/media/{media.pk}/large"},
        "width": 200,
        "height": 400,
        "blurhash": media.blurhash,
    }
    assert media.owner == employee and media.organization_id == employee.organization_id
    assert media.attached_at is None
    # The original (with GPS) is gone; only the two stripped variants remain.
    assert media.original_path == ""
    files = stored_files(settings)
    assert sorted(os.path.basename(path).rsplit("-", 1)[1] for path in files) == ["large.webp", "thumbnail.webp"]
    for path in files:
        with open(path, "rb") as variant:
            assert images.CAMERA_SERIAL.encode() not in variant.read()


@pytest.mark.django_db(transaction=True)
def test_embedded_mode_answers_ready_because_processing_runs_at_commit(api, settings, tmp_path):
    from tests.factories import UserFactory

    employee = UserFactory()
    response = api(employee).post("/api/v1/media", {"file": SimpleUploadedFile("a.jpg", images.phone_jpeg())}, format="multipart")

    assert response.status_code == 201
    assert response.json()["status"] == "ready"
    assert response.json()["variants"] is not None


def test_media_ready_reaches_the_uploader(upload, api, employee, events):
    media_id = upload(employee, images.phone_jpeg()).json()["id"]

    assert events == [
        {
            "type": "media.ready",
            "organization_id": employee.organization_id,
            "payload": {"media": detail(api, employee, media_id)},
            "user_ids": [employee.pk],
        }
    ]


def test_processing_runs_only_after_the_upload_commits(api, employee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api(employee).post("/api/v1/media", {"file": SimpleUploadedFile("a.jpg", images.phone_jpeg())}, format="multipart")
    assert response.status_code == 201
    assert response.json()["status"] == "processing"
    assert response.json()["variants"] is None
    # Width and height come from the header at once, so the app can lay out the card.
    assert (response.json()["width"], response.json()["height"]) == (200, 400)
    assert len(callbacks) == 1

    callbacks[0]()
    assert Media.objects.get(pk=response.json()["id"]).status == MediaStatus.READY


def test_processing_twice_changes_nothing(upload, employee, events):
    from media.tasks import media_process_task

    media = Media.objects.get(pk=upload(employee, images.phone_jpeg()).json()["id"])
    media_process_task(media.pk)
    media_process_task(987654)  # gone: returns quietly

    again = Media.objects.get(pk=media.pk)
    assert (again.thumbnail_path, again.large_path, again.processed_at) == (media.thumbnail_path, media.large_path, media.processed_at)
    assert len(events) == 1


def test_heic_is_accepted(upload, employee):
    response = upload(employee, images.plain("HEIF", size=(64, 48)), name="IMG_0001.HEIC", content_type="image/heic")
    assert response.status_code == 201
    media = Media.objects.get(pk=response.json()["id"])
    assert (media.status, media.width, media.height) == (MediaStatus.READY, 64, 48)


def test_animated_gif_is_stored_as_one_frame(upload, employee):
    response = upload(employee, images.animated_gif(), name="party.gif", content_type="image/gif")
    media = Media.objects.get(pk=response.json()["id"])
    with default_storage.open(media.large_path) as stored:
        variant = Image.open(io.BytesIO(stored.read()))
        assert getattr(variant, "n_frames", 1) == 1


def test_a_text_file_named_jpg_is_415(upload, employee):
    response = upload(employee, b"not a picture at all\n" * 50, name="photo.jpg", content_type="image/jpeg")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert "file" in response.json()["error"]["fields"]
    assert not Media.objects.exists()


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (1, 100_000_000)])
def test_pixel_bombs_are_400_fast(upload, employee, settings, width, height):
    started = time.perf_counter()
    response = upload(employee, images.png_header_only(width, height), name="bomb.png", content_type="image/png")
    elapsed = time.perf_counter() - started

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "too_many_pixels"
    assert elapsed < 0.5
    assert not Media.objects.exists()
    assert stored_files(settings) == []


def test_the_pixel_limit_is_a_setting(upload, employee, settings):
    settings.MEDIA_MAX_PIXELS = 1000
    assert upload(employee, images.plain("PNG", size=(40, 30))).status_code == 400


@pytest.mark.parametrize("size", [20_000, 200_000], ids=["after-parsing", "before-parsing"])
def test_oversize_is_413(upload, employee, settings, size):
    settings.MEDIA_MAX_UPLOAD_BYTES = 10_000
    response = upload(employee, b"\xff\xd8" + b"\0" * size)

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert not Media.objects.exists()


def test_a_picture_that_cannot_be_decoded_fails_and_leaves_nothing_behind(upload, api, employee, settings, events):
    response = upload(employee, images.truncated_jpeg())

    assert response.status_code == 201
    body = detail(api, employee, response.json()["id"])
    assert body["status"] == "failed"
    assert body["variants"] is None
    assert stored_files(settings) == []
    assert events[0]["payload"]["media"]["status"] == "failed"


def test_no_file_is_400(api, employee):
    response = api(employee).post("/api/v1/media", {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["fields"]


def test_anonymous_upload_is_401(upload):
    assert upload(None, images.phone_jpeg()).status_code == 401


def test_uploads_are_throttled_per_user(upload, employee, member, monkeypatch):
    from server.api.throttling import UploadThrottle

    monkeypatch.setattr(UploadThrottle, "rate", "2/min", raising=False)
    codes = [upload(employee, images.plain("PNG")).status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    assert upload(member, images.plain("PNG")).status_code == 201


def test_a_retried_upload_with_the_same_idempotency_key_is_one_upload(api, employee, django_capture_on_commit_callbacks):
    client = api(employee)
    data = images.phone_jpeg()
    answers = []
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            answers.append(
                client.post(
                    "/api/v1/media", {"file": SimpleUploadedFile("a.jpg", data)}, format="multipart", HTTP_IDEMPOTENCY_KEY="retry-1"
                )
            )

    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert answers[0].json()["id"] == answers[1].json()["id"]
    assert Media.objects.count() == 1

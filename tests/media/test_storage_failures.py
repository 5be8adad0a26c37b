"""A full disk and a failing S3 (issue #25): a clear 507 / 503, nothing half-written left or
attachable, and what a dying process leaves behind is cleaned up by the sweepers."""

from __future__ import annotations

import errno
import os
from datetime import timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from django.core.files.storage import FileSystemStorage
from django.utils import timezone

from media import services
from media.models import Media, MediaStatus
from media.tasks import media_orphans_delete_task, media_process_stale_task
from tests.media import images


class FlakyStorage(FileSystemStorage):
    """Writes half of a file, then fails the way `FAIL` says (None: works)."""

    FAIL: BaseException | None = None
    FAIL_ON: str = "original"  # which file fails: "original", "large"

    def _save(self, name, content):
        failure = type(self).FAIL
        if failure is not None and type(self).FAIL_ON in name:
            data = content.read()
            path = self.path(name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as half:
                half.write(data[: len(data) // 2])
            raise failure
        return super()._save(name, content)


@pytest.fixture
def flaky(settings):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "tests.media.test_storage_failures.FlakyStorage"}}
    FlakyStorage.FAIL, FlakyStorage.FAIL_ON = None, "original"
    yield FlakyStorage
    FlakyStorage.FAIL, FlakyStorage.FAIL_ON = None, "original"


def files(settings) -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()) if root.exists() else []


def disk_full() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


S3_ERRORS = {
    "s3-500": ClientError({"Error": {"Code": "InternalError", "Message": "We encountered an internal error"}}, "PutObject"),
    "s3-slowdown": ClientError({"Error": {"Code": "SlowDown", "Message": "Reduce your request rate"}}, "PutObject"),
    "s3-unreachable": EndpointConnectionError(endpoint_url="https://s3.example.invalid/bucket"),
    "volume-io-error": OSError(errno.EIO, "Input/output error"),
}


def test_a_full_disk_is_507_and_leaves_nothing(upload, api, employee, settings, flaky):
    flaky.FAIL = disk_full()
    response = upload(employee, images.phone_jpeg())
    assert response.status_code == 507
    assert response.json()["error"]["code"] == "storage_full"
    assert response.json()["error"]["message"]
    assert not Media.objects.exists()
    assert files(settings) == []  # the half-written original is gone
    # Space again: the same photo uploads.
    flaky.FAIL = None
    assert upload(employee, images.phone_jpeg()).status_code == 201
    assert Media.objects.get().status == MediaStatus.READY


@pytest.mark.parametrize("failure", S3_ERRORS.values(), ids=S3_ERRORS.keys())
def test_a_storage_error_is_503_with_retry_after_and_leaves_nothing(upload, employee, settings, flaky, failure):
    flaky.FAIL = failure
    response = upload(employee, images.phone_jpeg())
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert response["Retry-After"] == str(services.STORAGE_RETRY_AFTER_SECONDS)
    assert not Media.objects.exists()
    assert files(settings) == []


def test_nothing_half_written_can_be_attached_to_a_post(upload, api, admin_user, settings, flaky):
    flaky.FAIL = disk_full()
    assert upload(admin_user, images.phone_jpeg()).status_code == 507
    # No id came back; the ids around it are not the caller's to claim.
    response = api(admin_user).post("/api/v1/posts", {"body": "hi", "image_ids": [1, 2, 3]}, format="json")
    assert response.status_code == 400
    assert not Media.objects.exists()


def test_a_variant_write_failing_half_way_leaves_no_variant_and_is_retried(upload, employee, settings, flaky):
    flaky.FAIL, flaky.FAIL_ON = disk_full(), "large"
    assert upload(employee, images.phone_jpeg()).status_code == 201  # stored; processing is the task's
    # The processing task raised the storage error (Celery retries it: autoretry_for).
    media = Media.objects.get()
    assert media.status == MediaStatus.PROCESSING
    assert files(settings) == [media.original_path]  # the thumbnail written before the failure is gone too
    # Space again: the retry (or the stale sweep) makes the variants.
    flaky.FAIL = None
    services.media_process(media_id=media.pk)
    media.refresh_from_db()
    assert media.status == MediaStatus.READY
    assert sorted(files(settings)) == sorted([media.thumbnail_path, media.large_path])


def test_a_process_dying_mid_write_is_cleaned_up_by_the_sweepers(upload, employee, settings, flaky):
    # The worst case: the web process dies while writing (nothing in the request can clean up).
    flaky.FAIL = SystemExit()
    with pytest.raises(SystemExit):
        upload(employee, images.phone_jpeg())
    media = Media.objects.get()
    assert media.attached_at is None and files(settings) == [media.original_path]  # half a file
    Media.objects.filter(pk=media.pk).update(created_at=timezone.now() - services.STALE_PROCESSING - timedelta(seconds=1))
    flaky.FAIL = None
    media_process_stale_task()  # the cut-off original does not decode: failed, original deleted
    media.refresh_from_db()
    assert media.status == MediaStatus.FAILED
    assert files(settings) == []
    Media.objects.filter(pk=media.pk).update(created_at=timezone.now() - settings.MEDIA_ORPHAN_TTL - timedelta(seconds=1))
    assert media_orphans_delete_task() == 1
    assert not Media.objects.exists()


def test_the_storage_answers_are_in_the_schema():
    from tests.test_openapi_contract import openapi

    responses = openapi()["paths"]["/api/v1/media"]["post"]["responses"]
    assert "storage_unavailable" in responses["503"]["description"]
    assert "storage_full" in responses["507"]["description"]


def upload_folders(settings) -> list[str]:
    """The per-upload folders (`media/<org>/<random>`) on the volume."""
    root = Path(settings.MEDIA_ROOT)
    return sorted(str(path.relative_to(root)) for path in root.glob("media/*/*") if path.is_dir()) if root.exists() else []


def test_a_refused_upload_leaves_no_folder_behind(upload, employee, settings, flaky):
    # Found by the disk-full rehearsal (`python -m tests.chaos.run disk-full`): each 507 left its
    # empty folder, 146 in a minute, for ever (an inode, and a block on ext4, each).
    flaky.FAIL = disk_full()
    assert upload(employee, images.phone_jpeg()).status_code == 507
    assert upload_folders(settings) == []
    flaky.FAIL = S3_ERRORS["volume-io-error"]
    assert upload(employee, images.phone_jpeg()).status_code == 503
    assert upload_folders(settings) == []


def test_the_orphan_sweep_takes_the_upload_folder_and_only_it(upload, employee, settings):
    assert upload(employee, images.phone_jpeg()).status_code == 201
    assert upload(employee, images.phone_jpeg()).status_code == 201
    old, kept = Media.objects.order_by("pk")
    assert old.status == MediaStatus.READY and len(upload_folders(settings)) == 2
    Media.objects.filter(pk=old.pk).update(created_at=timezone.now() - settings.MEDIA_ORPHAN_TTL - timedelta(seconds=1))
    assert media_orphans_delete_task() == 1
    # The swept upload's folder is gone with its variants; the other upload keeps its folder and files.
    assert upload_folders(settings) == [kept.thumbnail_path.rsplit("/", 1)[0]]
    assert sorted(files(settings)) == sorted([kept.thumbnail_path, kept.large_path])

"""The beat task that deletes uploads nobody used."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.utils import timezone

from media.models import Media, MediaStatus
from media.tasks import media_orphans_delete_task
from tests.media import images
from tests.media.factories import MediaFactory, ready_media


def age(media: Media, hours: float) -> None:
    Media.objects.filter(pk=media.pk).update(created_at=timezone.now() - timedelta(hours=hours))


def test_uploads_unused_for_a_day_go_with_their_files(employee):
    orphan = ready_media(owner=employee)
    failed = MediaFactory(owner=employee, status=MediaStatus.FAILED)
    fresh = ready_media(owner=employee)
    used = ready_media(owner=employee, attached=True, org_wide=True)
    for media in (orphan, failed, used):
        age(media, 25)

    assert media_orphans_delete_task() == 2

    assert set(Media.objects.values_list("pk", flat=True)) == {fresh.pk, used.pk}
    assert not default_storage.exists(orphan.thumbnail_path)
    assert not default_storage.exists(orphan.large_path)
    assert default_storage.exists(used.large_path)
    assert media_orphans_delete_task() == 0  # idempotent


def test_the_sweep_is_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["media-orphans-delete"]
    assert entry["task"] == "media.tasks.media_orphans_delete_task"
    assert entry["schedule"] <= timedelta(hours=1)


def test_uploads_stuck_in_processing_are_queued_again(employee, django_capture_on_commit_callbacks):
    from django.core.files.base import ContentFile

    from media.tasks import media_process_stale_task

    stuck = MediaFactory(owner=employee, original_path=default_storage.save("media/t/original", ContentFile(images.phone_jpeg())))
    just_uploaded = MediaFactory(owner=employee)
    age(stuck, 0.5)

    assert media_process_stale_task() == 1

    stuck.refresh_from_db()
    assert stuck.status == MediaStatus.READY
    assert Media.objects.get(pk=just_uploaded.pk).status == MediaStatus.PROCESSING
    assert media_process_stale_task() == 0
    assert "media-process-stale" in django_settings.CELERY_BEAT_SCHEDULE


def test_a_broker_outage_does_not_fail_the_upload(upload, employee, monkeypatch):
    from kombu.exceptions import OperationalError

    from media.tasks import media_process_task

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(media_process_task, "delay", broker_down)
    response = upload(employee, images.phone_jpeg())

    assert response.status_code == 201
    assert Media.objects.get(pk=response.json()["id"]).status == MediaStatus.PROCESSING  # the stale sweep picks it up


def test_an_upload_never_processed_within_an_hour_fails(employee, monkeypatch):
    from media.tasks import media_process_stale_task, media_process_task

    queued = []
    monkeypatch.setattr(media_process_task, "delay", queued.append)
    hopeless, recent = MediaFactory(owner=employee), MediaFactory(owner=employee)
    age(hopeless, 2)
    age(recent, 0.5)

    assert media_process_stale_task() == 1

    assert Media.objects.get(pk=hopeless.pk).status == MediaStatus.FAILED
    assert queued == [recent.pk]

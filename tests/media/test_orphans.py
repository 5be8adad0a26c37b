"""The beat task that deletes uploads nobody used."""

from datetime import timedelta

from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.utils import timezone

from media.models import Media, MediaStatus
from media.tasks import media_orphans_delete_task
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

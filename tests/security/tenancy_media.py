"""Objects of organisation A for the tenancy harness: every media route must answer 404
to organisation B's admin. No files are written: the answer must come before storage is read."""

from media.models import MediaStatus
from media.services import media_claim
from tests.media.factories import MediaFactory


def _group_photo(world) -> int:
    media = MediaFactory(
        owner=world.employee_a,
        status=MediaStatus.READY,
        variant_format="webp",
        thumbnail_path="media/tenancy/none-thumbnail.webp",
        large_path="media/tenancy/none-large.webp",
    )
    media_claim(owner=world.employee_a, media_ids=[media.pk], max_count=1, audience_group_ids=[world.group_a.pk])
    return media.pk


TENANCY_FIXTURES = {"media_id": _group_photo}

"""Media rows for tests of other routes. `ready_media` writes real (tiny) variant files."""

from __future__ import annotations

import io
import secrets

import factory
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from media.models import Media, MediaStatus
from tests.factories import UserFactory


class MediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Media

    owner = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("owner.organization")
    status = MediaStatus.PROCESSING
    width = 40
    height = 30


def ready_media(*, owner, attached: bool = False, org_wide: bool = False, group_ids=(), color=(200, 30, 30)) -> Media:
    folder = f"media/{owner.organization_id}/{secrets.token_urlsafe(9)}"
    paths = {}
    for variant, size in (("thumbnail", (32, 24)), ("large", (40, 30))):
        buffer = io.BytesIO()
        Image.new("RGB", size, color).save(buffer, format="WEBP")
        paths[variant] = default_storage.save(f"{folder}/x-{variant}.webp", ContentFile(buffer.getvalue()))
    media = MediaFactory(
        owner=owner,
        status=MediaStatus.READY,
        variant_format="webp",
        blurhash="LEHV6nWB2yk8pyo0adR*.7kCMdnj",
        thumbnail_path=paths["thumbnail"],
        large_path=paths["large"],
    )
    if attached:
        from media.services import media_claim

        media_claim(owner=owner, media_ids=[media.pk], max_count=1, org_wide=org_wide, audience_group_ids=list(group_ids))
        media.refresh_from_db()
    return media

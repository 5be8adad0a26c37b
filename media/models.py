from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse


@cache
def _url_prefix() -> str:
    # Reversed once: a feed page renders hundreds of variant URLs.
    return reverse("media-upload")


class MediaStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


def variant_urls(media_id: int, status: str) -> dict[str, str] | None:
    """`{thumbnail, large}` URLs of the authorising view, or None until ready. From two values,
    so a feed page that fetched its images as JSON needs no Media instances."""
    if status != MediaStatus.READY:
        return None
    prefix = _url_prefix()
    return {variant: f"{prefix}/{media_id}/{variant}" for variant in VARIANTS}


class VariantFormat(models.TextChoices):
    WEBP = "webp", "WebP"
    JPEG = "jpeg", "JPEG"


CONTENT_TYPES = {VariantFormat.WEBP: "image/webp", VariantFormat.JPEG: "image/jpeg"}
VARIANTS = ("thumbnail", "large")


class Media(models.Model):
    """One uploaded image. The original is kept only until processing ends (it carries
    the GPS position and camera serial); afterwards only the stripped variants exist."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=MediaStatus.choices, default=MediaStatus.PROCESSING)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    blurhash = models.CharField(max_length=64, blank=True)
    variant_format = models.CharField(max_length=8, choices=VariantFormat.choices, blank=True)
    original_path = models.CharField(max_length=255, blank=True)
    thumbnail_path = models.CharField(max_length=255, blank=True)
    large_path = models.CharField(max_length=255, blank=True)
    # Set when a post, kudos or avatar claims the upload: an upload is used once.
    attached_at = models.DateTimeField(null=True, blank=True)
    # Who may see it besides the owner, recorded by the claiming app (media cannot
    # import feed): the whole organisation, or members of these groups.
    org_wide = models.BooleanField(default=False)
    audience_groups = models.ManyToManyField("accounts.Group", through="MediaAudienceGroup", related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(status__in=MediaStatus.values), name="media_status_valid"),
            models.CheckConstraint(
                condition=~Q(status=MediaStatus.READY)
                | (Q(width__gt=0) & Q(height__gt=0) & ~Q(thumbnail_path="") & ~Q(large_path="") & ~Q(variant_format="")),
                name="media_ready_has_variants",
            ),
        ]
        indexes = [
            # The orphan sweep: unattached uploads by age.
            models.Index(fields=["created_at"], condition=Q(attached_at__isnull=True), name="media_orphan_idx"),
            models.Index(fields=["owner", "created_at"], name="media_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"media {self.pk} ({self.status})"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[VariantFormat(self.variant_format)]

    def variant_path(self, variant: str) -> str:
        return {"thumbnail": self.thumbnail_path, "large": self.large_path}[variant]

    def variant_urls(self) -> dict[str, str] | None:
        """`{thumbnail, large}` URLs of the authorising view, or None until ready.

        Reads only this row, so other apps (the author summary in accounts, the feed card)
        can call it on a string-named prefetch without importing this app."""
        return variant_urls(self.pk, self.status)


class MediaAudienceGroup(models.Model):
    media = models.ForeignKey(Media, on_delete=models.CASCADE, related_name="audience_links")
    group = models.ForeignKey("accounts.Group", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["media", "group"], name="media_audience_group_unique")]
        # The serving check goes from the viewer's groups to the media.
        indexes = [models.Index(fields=["group", "media"], name="media_audience_by_group_idx")]


# From User to their avatar's image: what media registers with accounts (accounts.avatars) and
# what the apps above media select_related on people's cards.
AVATAR = "avatar__media"


class UserAvatar(models.Model):
    """The user's avatar lives here so that accounts needs no migration and no import of media;
    media registers how to reach it (`AVATAR`, `variant_urls`) with accounts.avatars."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="avatar")
    media = models.OneToOneField(Media, on_delete=models.CASCADE, related_name="avatar_of")
    updated_at = models.DateTimeField(auto_now=True)

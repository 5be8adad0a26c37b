from __future__ import annotations

from functools import cache

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@cache
def _url_prefix() -> str:
    # Reversed once: a feed page renders hundreds of variant URLs.
    return reverse("media-upload")


class MediaStatus(models.TextChoices):
    PROCESSING = "processing", _("Processing")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


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

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("owner"))
    status = models.CharField(max_length=16, choices=MediaStatus.choices, default=MediaStatus.PROCESSING, verbose_name=_("status"))
    width = models.PositiveIntegerField(default=0, verbose_name=_("width"))
    height = models.PositiveIntegerField(default=0, verbose_name=_("height"))
    blurhash = models.CharField(max_length=64, blank=True, verbose_name=_("blurhash"))
    variant_format = models.CharField(max_length=8, choices=VariantFormat.choices, blank=True, verbose_name=_("variant format"))
    original_path = models.CharField(max_length=255, blank=True, verbose_name=_("original file"))
    thumbnail_path = models.CharField(max_length=255, blank=True, verbose_name=_("thumbnail file"))
    large_path = models.CharField(max_length=255, blank=True, verbose_name=_("large file"))
    # Set when a post, kudos or avatar claims the upload: an upload is used once.
    attached_at = models.DateTimeField(null=True, blank=True, verbose_name=_("attached"))
    # Who may see it besides the owner, recorded by the claiming app (media cannot
    # import feed): the whole organisation, or members of these groups.
    org_wide = models.BooleanField(default=False, verbose_name=_("whole organisation"))
    audience_groups = models.ManyToManyField(
        "accounts.Group", through="MediaAudienceGroup", related_name="+", blank=True, verbose_name=_("audience groups")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    processed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("processed"))

    class Meta:
        verbose_name = _("media file")
        verbose_name_plural = _("media")
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
        verbose_name = _("media audience group")
        verbose_name_plural = _("media audience groups")
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

    class Meta:
        verbose_name = _("profile photo")
        verbose_name_plural = _("profile photos")

"""Writes about media: upload, processing, claiming by other apps, avatars, the orphan sweep."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from media import events, imaging
from media.models import Media, MediaAudienceGroup, MediaStatus, UserAvatar
from media.serializers import media_representation
from notifications.services import emit
from server.api.exceptions import ApplicationError, ValidationFailed

logger = logging.getLogger(__name__)

_EXTENSIONS = {"webp": "webp", "jpeg": "jpg"}


class UploadTooLarge(ApplicationError):
    status_code = 413
    default_code = "too_large"


class UnsupportedImage(ApplicationError):
    status_code = 415
    default_code = "unsupported_media_type"


class StorageFull(ApplicationError):
    """The media volume (or quota) is full: 507, nothing stored."""

    status_code = 507
    default_code = "storage_full"


class StorageUnavailable(ApplicationError):
    """The storage (S3, a network volume) failed or did not answer: 503 with Retry-After."""

    status_code = 503
    default_code = "storage_unavailable"


# Errors of a full disk or quota: retrying soon will not help, the operator must act.
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
STORAGE_RETRY_AFTER_SECONDS = 30


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What a storage backend raises when it, not the request, is at fault."""
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - django-storages[s3] brings botocore
        return (OSError,)
    return (OSError, BotoCoreError, ClientError)


STORAGE_ERRORS = _storage_errors()


def storage_failure(error: BaseException) -> ApplicationError:
    """The answer for a storage error: 507 when full, else 503 (try again)."""
    if isinstance(error, OSError) and error.errno in _FULL_ERRNOS:
        logger.error("media storage is full: %s", error)
        return StorageFull(_("There is no room to store the file right now. Please try again later."))
    logger.error("media storage failed: %r", error)
    return StorageUnavailable(
        _("Photos cannot be stored right now. Please try again in a moment."),
        headers={"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
    )


def upload_too_large() -> UploadTooLarge:
    limit_mb = settings.MEDIA_MAX_UPLOAD_BYTES / (1024 * 1024)
    return UploadTooLarge(_("The file is larger than %(limit).0f MB.") % {"limit": limit_mb}, fields={"file": [_("Too large.")]})


def delete_files(paths: Iterable[str]) -> None:
    """Delete stored files by path, best effort (also used by personal-data erasure)."""
    folders = set()
    for path in paths:
        if not path:
            continue
        try:
            default_storage.delete(path)
        except OSError:
            # A leftover file is harmless (its name is unguessable and never served);
            # a failed request or sweep would not be.
            logger.warning("could not delete media file %s", path, exc_info=True)
        folders.add(path.rsplit("/", 1)[0])
    _remove_empty_upload_folders(folders)


def _remove_empty_upload_folders(folders: Iterable[str]) -> None:
    """On a file system, an upload's own folder (`media/<org>/<random>`) goes with its last file:
    else every upload ever made, and every one refused while the disk was full, leaves a
    directory behind (an inode and, on ext4, a block each). Object stores have no folders."""
    for folder in folders:
        parts = folder.split("/")
        if len(parts) != 3 or parts[0] != "media" or not all(parts):
            continue  # only an upload's own folder, never the organisation's or the root
        try:
            location = default_storage.path(folder)
        except NotImplementedError:  # S3: no folders
            return
        with contextlib.suppress(OSError):  # not empty (variants still there), or already gone
            os.rmdir(location)


def media_upload(*, owner: User, upload: UploadedFile) -> Media:
    """Check the upload from its header, store the original privately, queue processing."""
    if upload.size > settings.MEDIA_MAX_UPLOAD_BYTES:
        raise upload_too_large()
    try:
        inspection = imaging.inspect(upload, max_pixels=settings.MEDIA_MAX_PIXELS)
    except imaging.ImageRejected as rejected:
        if rejected.reason == "too_many_pixels":
            limit = settings.MEDIA_MAX_PIXELS / 1_000_000
            raise ValidationFailed(
                _("The image has more than %(limit).0f megapixels.") % {"limit": limit},
                code="too_many_pixels",
                fields={"file": [_("Too many pixels.")]},
            )
        raise UnsupportedImage(_("Send a JPEG, PNG, WebP, HEIC or GIF image."), fields={"file": [_("Not a supported image.")]})
    upload.seek(0)
    # The folder name is random so that no one can guess a file's name, even if storage
    # were misconfigured to be public. Storage is written outside the transaction: it
    # may be a network call (S3).
    folder = f"media/{owner.organization_id}/{secrets.token_urlsafe(18)}"
    intended_path = f"{folder}/original"
    # The row is written first, unattached, naming the file about to be written: if the write
    # fails half-way (disk full, S3 error) or the process dies, the row leads the cleanup to the
    # remains (here at once; else processing finds no decodable original and fails it, and the
    # orphan sweep deletes the row and its files). Nothing half-written can be attached: a post
    # takes only its owner's uploads, and this one is answered only once stored.
    media = Media.objects.create(
        organization_id=owner.organization_id,
        owner=owner,
        status=MediaStatus.PROCESSING,
        width=inspection.width,
        height=inspection.height,
        original_path=intended_path,
    )
    try:
        original_path = default_storage.save(intended_path, upload)
    except STORAGE_ERRORS as error:
        delete_files([intended_path])
        Media.objects.filter(pk=media.pk).delete()
        raise storage_failure(error) from error
    try:
        with transaction.atomic():
            if original_path != intended_path:
                Media.objects.filter(pk=media.pk).update(original_path=original_path)
                media.original_path = original_path
            from media.tasks import media_process_task  # here: media.tasks imports this module

            # Not delay_on_commit: with the broker down the upload is still stored and
            # answered, and media_process_stale requeues it, instead of a 500 after commit.
            media_id = media.pk

            def enqueue_processing() -> None:
                media_process_task.delay(media_id)

            transaction.on_commit(enqueue_processing, robust=True)
    except Exception:
        delete_files([original_path])
        Media.objects.filter(pk=media.pk).delete()
        raise
    return media


def media_process(*, media_id: int) -> None:
    """processing → ready | failed. Idempotent: a second run finds the row no longer processing."""
    media = Media.objects.filter(pk=media_id).first()
    if media is None or media.status != MediaStatus.PROCESSING:
        return
    variant_format = settings.MEDIA_VARIANT_FORMAT
    try:
        with default_storage.open(media.original_path, "rb") as original:
            rendered = imaging.render(
                original,
                variant_format=variant_format,
                quality=settings.MEDIA_VARIANT_QUALITY,
                thumbnail_size=settings.MEDIA_THUMBNAIL_SIZE,
                large_size=settings.MEDIA_LARGE_SIZE,
                max_pixels=settings.MEDIA_MAX_PIXELS,
            )
    except (imaging.ImageRejected, FileNotFoundError) as error:
        logger.info("media %s failed: %s", media_id, error)
        _finish(media, status=MediaStatus.FAILED, fields={})
        return

    folder = media.original_path.rsplit("/", 1)[0]
    # A fresh name per rendering: variant files never change once written, which is what
    # lets clients cache them for a year.
    stem = f"{folder}/{secrets.token_urlsafe(6)}"
    extension = _EXTENSIONS[variant_format]
    names = [f"{stem}-thumbnail.{extension}", f"{stem}-large.{extension}"]
    written = []
    try:
        for name, content in zip(names, (rendered.thumbnail, rendered.large), strict=True):
            written.append(default_storage.save(name, ContentFile(content)))
    except STORAGE_ERRORS:
        # Disk full or S3 failing: no half-written variant stays behind, the row stays
        # `processing` and the task retries (then the stale sweep, then `failed` after an hour).
        delete_files([*names, *written])
        raise
    finished = _finish(
        media,
        status=MediaStatus.READY,
        fields={
            "width": rendered.width,
            "height": rendered.height,
            "blurhash": rendered.blurhash,
            "variant_format": variant_format,
            "thumbnail_path": written[0],
            "large_path": written[1],
        },
    )
    if not finished:
        delete_files(written)


def _finish(media: Media, *, status: str, fields: dict) -> bool:
    original_path = media.original_path
    with transaction.atomic():
        # Guarded by status: two workers finishing the same row cannot both win.
        updated = Media.objects.filter(pk=media.pk, status=MediaStatus.PROCESSING).update(
            status=status, original_path="", processed_at=timezone.now(), **fields
        )
        if updated:
            media.refresh_from_db()
            # One event type for both outcomes: the app stops waiting either way.
            emit(
                events.MEDIA_READY,
                organization_id=media.organization_id,
                payload={"media": media_representation(media)},
                user_ids=[media.owner_id],
            )
    if updated:
        # The original carries GPS and the camera serial: it goes as soon as it is not needed.
        delete_files([original_path])
    return bool(updated)


def media_claim(
    *,
    owner: User,
    media_ids: list[int],
    max_count: int,
    field: str = "image_ids",
    org_wide: bool = False,
    audience_group_ids: list[int] | None = None,
) -> list[Media]:
    """Attach the caller's own uploads to something (a post, kudos, avatar), in the given order.

    Call inside the claiming service's transaction. The audience says who besides the owner
    may fetch the images: the whole organisation, or members of these groups (the caller has
    checked the groups are of the owner's organisation). Raises ValidationFailed on `field`."""
    if not media_ids:
        return []
    if len(media_ids) > max_count:
        raise ValidationFailed(
            _("At most %(count)d images.") % {"count": max_count}, fields={field: [_("At most %(count)d images.") % {"count": max_count}]}
        )
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed(_("An image is listed twice."), fields={field: [_("An image is listed twice.")]})
    with transaction.atomic():
        # Locked in primary-key order: two claims of overlapping images cannot deadlock,
        # and the second one sees the first one's marker.
        found = {
            media.pk: media
            for media in Media.objects.select_for_update()
            .filter(pk__in=media_ids, owner=owner, organization_id=owner.organization_id)
            .order_by("pk")
        }
        errors = []
        for media_id in media_ids:
            media = found.get(media_id)
            # Someone else's upload and a missing one read the same: nothing is confirmed.
            if media is None:
                errors.append(_("Image %(id)s is not one of your uploads.") % {"id": media_id})
            elif media.status == MediaStatus.FAILED:
                errors.append(_("Image %(id)s could not be processed; upload it again.") % {"id": media_id})
            elif media.attached_at is not None:
                errors.append(_("Image %(id)s is already used elsewhere.") % {"id": media_id})
        if errors:
            raise ValidationFailed(errors[0], fields={field: errors})
        now = timezone.now()
        Media.objects.filter(pk__in=media_ids).update(attached_at=now, org_wide=org_wide)
        if audience_group_ids:
            MediaAudienceGroup.objects.bulk_create(
                [MediaAudienceGroup(media_id=media_id, group_id=group_id) for media_id in media_ids for group_id in set(audience_group_ids)]
            )
    claimed = [found[media_id] for media_id in media_ids]
    for media in claimed:
        media.attached_at, media.org_wide = now, org_wide
    return claimed


def media_audience_set(*, media_ids: list[int], org_wide: bool, audience_group_ids: list[int] | None = None) -> None:
    """The thing the images are attached to changed its audience (a post moved to other groups)."""
    with transaction.atomic():
        Media.objects.filter(pk__in=media_ids).update(org_wide=org_wide)
        MediaAudienceGroup.objects.filter(media_id__in=media_ids).delete()
        if audience_group_ids:
            MediaAudienceGroup.objects.bulk_create(
                [MediaAudienceGroup(media_id=media_id, group_id=group_id) for media_id in media_ids for group_id in set(audience_group_ids)]
            )


def media_detach(*, media_ids: list[int]) -> None:
    """The images are no longer used (post deleted, image removed in an edit, avatar replaced).

    They become visible to their owner only and the orphan sweep deletes them."""
    with transaction.atomic():
        Media.objects.filter(pk__in=media_ids).update(attached_at=None, org_wide=False)
        MediaAudienceGroup.objects.filter(media_id__in=media_ids).delete()


def avatar_set(*, user: User, media_id: int) -> Media:
    with transaction.atomic():
        # Colleagues see avatars on every card: the picture is organisation-wide.
        (media,) = media_claim(owner=user, media_ids=[media_id], max_count=1, field="media_id", org_wide=True)
        current = UserAvatar.objects.select_for_update().filter(user=user).first()
        if current is None:
            UserAvatar.objects.create(user=user, media=media)
        else:
            previous_id = current.media_id
            current.media = media
            current.save(update_fields=["media", "updated_at"])
            media_detach(media_ids=[previous_id])
    return media


def avatar_remove(*, user: User) -> None:
    with transaction.atomic():
        current = UserAvatar.objects.select_for_update().filter(user=user).first()
        if current is None:
            return
        current.delete()
        media_detach(media_ids=[current.media_id])


# Longer than a processing run may take (the task's time limit), so a running one is not doubled.
STALE_PROCESSING = timedelta(minutes=5)
# After this, an upload that still has not been processed never will be: it fails, so the
# app stops waiting and a post does not carry a placeholder forever.
PROCESSING_GIVE_UP = timedelta(hours=1)


def media_process_stale(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Queue processing again for uploads stuck in `processing` (lost publish, dead worker)."""
    from media.tasks import media_process_task  # here: media.tasks imports this module

    now = now or timezone.now()
    for media in Media.objects.filter(status=MediaStatus.PROCESSING, created_at__lt=now - PROCESSING_GIVE_UP)[:batch_size]:
        _finish(media, status=MediaStatus.FAILED, fields={})
    stale = list(
        Media.objects.filter(status=MediaStatus.PROCESSING, created_at__lt=now - STALE_PROCESSING)
        .order_by("pk")
        .values_list("pk", flat=True)[:batch_size]
    )
    for media_id in stale:
        # Safe to repeat: processing finishes a row once (guarded by status).
        media_process_task.delay(media_id)
    return len(stale)


def media_orphans_delete(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Delete uploads nobody attached within MEDIA_ORPHAN_TTL (and failed ones), with their files."""
    cutoff = (now or timezone.now()) - settings.MEDIA_ORPHAN_TTL
    with transaction.atomic():
        # skip_locked: an upload being claimed right now is left for the next sweep.
        orphans = list(
            Media.objects.select_for_update(skip_locked=True)
            .filter(attached_at__isnull=True, created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "original_path", "thumbnail_path", "large_path")[:batch_size]
        )
        Media.objects.filter(pk__in=[row[0] for row in orphans], attached_at__isnull=True).delete()
    # Files go after the commit: if the delete rolled back, the rows still need them.
    delete_files(path for row in orphans for path in row[1:])
    return len(orphans)

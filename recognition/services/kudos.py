from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from feed.models import KeyMoment, Post
from feed.selectors import access_key_moment
from feed.services import post_create_system
from feed.services.posts import ensure_not_muted
from media.serializers import media_representation
from media.services import media_claim
from notifications.services import emit
from recognition import events
from recognition.models import AwardRound, CompanyValue, Kudos, KudosRecipient, Nomination
from recognition.months import month_of, month_start
from recognition.services.common import colleagues
from search.language import text_language
from server.api.exceptions import NotFound, ValidationFailed
from server.api.text import clean_text

MAX_RECIPIENTS = 10


def kudos_card(*, kudos: Kudos, recipients: list[User], value: CompanyValue | None, key_moment: KeyMoment | None) -> dict[str, Any]:
    """What the feed shows as a kudos post's `kudos` field and what `kudos.created` carries."""
    return {
        "id": kudos.pk,
        "giver": {"id": kudos.giver_id, "name": kudos.giver.name},
        "recipients": [{"id": r.pk, "name": r.name} for r in recipients],
        "value": {"id": value.pk, "name": value.name, "emoji": value.emoji} if value else None,
        "message": kudos.message,
        "image_id": kudos.image_id,
        "key_moment": {"id": key_moment.pk, "title": key_moment.title} if key_moment else None,
    }


def _kudos_post_create(*, kudos: Kudos, card: dict[str, Any]) -> Post:
    """The kudos' feed post (kind `kudos`): org-wide, the giver as author, the card rendered as its `kudos` field."""
    post = post_create_system(author=kudos.giver, kind="kudos", body=kudos.message, group_ids=None, card=card)
    kudos.post = post
    kudos.save(update_fields=["post"])
    return post


def _recipients(*, giver: User, recipient_ids: list[int]) -> list[User]:
    unique_ids = list(dict.fromkeys(recipient_ids))
    if not unique_ids or len(unique_ids) > MAX_RECIPIENTS:
        message = _("Give kudos to 1 to %(n)d colleagues.") % {"n": MAX_RECIPIENTS}
        raise ValidationFailed(message, fields={"recipient_ids": [message]})
    if giver.pk in unique_ids:
        message = _("You cannot give kudos to yourself.")
        raise ValidationFailed(message, code="self_kudos", fields={"recipient_ids": [message]})
    found = colleagues(organization_id=giver.organization_id, user_ids=unique_ids)
    missing = [pk for pk in unique_ids if pk not in found]
    if missing:
        message = _("Not an active colleague: %(ids)s.") % {"ids": ", ".join(map(str, missing))}
        raise ValidationFailed(message, fields={"recipient_ids": [message]})
    return [found[pk] for pk in unique_ids]


def _value(*, giver: User, value_id: int | None) -> CompanyValue | None:
    if value_id is None:
        if giver.organization.kudos_value_required:
            message = _("Choose one of the company values.")
            raise ValidationFailed(message, fields={"value_id": [message]})
        return None
    value = CompanyValue.objects.filter(pk=value_id, organization_id=giver.organization_id, active=True).first()
    if value is None:
        message = _("Not one of your organisation's active values.")
        raise ValidationFailed(message, fields={"value_id": [message]})
    return value


def _key_moment(*, giver: User, key_moment_id: int | None) -> KeyMoment | None:
    if key_moment_id is None:
        return None
    try:
        return access_key_moment(user=giver, key_moment_id=key_moment_id)
    except NotFound:
        message = _("Not a key moment you can see.")
        raise ValidationFailed(message, fields={"key_moment_id": [message]})


def _check_allowance(*, giver: User, now: dt.datetime) -> None:
    allowance = giver.organization.kudos_monthly_allowance
    if allowance is None:
        return
    # Locking the giver's row serialises this giver's concurrent kudos, so count-then-insert cannot overshoot.
    User.objects.select_for_update().filter(pk=giver.pk).values_list("pk", flat=True).get()
    since = month_start(month_of(now, giver.organization.timezone), giver.organization.timezone)
    if Kudos.objects.filter(giver=giver, created_at__gte=since).count() >= allowance:
        message = _("You have given all %(n)d kudos of this month; more from the 1st.") % {"n": allowance}
        raise ValidationFailed(message, code="kudos_allowance_reached", fields={"recipient_ids": [message]})


def kudos_give(
    *,
    giver: User,
    recipient_ids: list[int],
    message: str,
    value_id: int | None = None,
    image_id: int | None = None,
    key_moment_id: int | None = None,
) -> Kudos:
    # A moderator's mute covers kudos too (issue 9): 403 with code `muted`, like posts and comments.
    ensure_not_muted(giver)
    message = clean_text(message, field="message")
    recipients = _recipients(giver=giver, recipient_ids=recipient_ids)
    value = _value(giver=giver, value_id=value_id)
    key_moment = _key_moment(giver=giver, key_moment_id=key_moment_id)
    with transaction.atomic():
        _check_allowance(giver=giver, now=timezone.now())
        image = None
        if image_id is not None:
            # Kudos are public to the organisation, and so is their image once claimed.
            [image] = media_claim(owner=giver, media_ids=[image_id], max_count=1, field="image_id", org_wide=True)
        kudos = Kudos.objects.create(
            organization_id=giver.organization_id,
            giver=giver,
            message=message,
            language=text_language(message, writer=giver),
            value=value,
            image=image,
            key_moment=key_moment,
        )
        KudosRecipient.objects.bulk_create([KudosRecipient(kudos=kudos, recipient=r, giver=giver) for r in recipients])
        card = kudos_card(kudos=kudos, recipients=recipients, value=value, key_moment=key_moment)
        post = _kudos_post_create(kudos=kudos, card=card)
        emit(
            events.KUDOS_CREATED,
            organization_id=giver.organization_id,
            # The image as the feed card shows it (the card stores only its id; the feed reads it live).
            payload={
                **card,
                "image": media_representation(image) if image else None,
                "post_id": post.pk,
                "created_at": kudos.created_at.isoformat(),
            },
            org_wide=True,
            addressed=[{"user_id": r.pk, "reason": events.KUDOS.name} for r in recipients],
        )
    return kudos


def kudos_nominate(*, nominator: User, kudos: Kudos, round: AwardRound, nominee_id: int | None, reason: str | None) -> Nomination:
    """Promote a kudos to a nomination of its recipient, the kudos attached as evidence."""
    from recognition.services.awards import nomination_create

    recipient_ids = list(kudos.recipient_links.values_list("recipient_id", flat=True))
    if nominee_id is None:
        if len(recipient_ids) != 1:
            message = _("This kudos has several recipients: say which one you nominate.")
            raise ValidationFailed(message, fields={"nominee_id": [message]})
        nominee_id = recipient_ids[0]
    elif nominee_id not in recipient_ids:
        message = _("Not a recipient of this kudos.")
        raise ValidationFailed(message, fields={"nominee_id": [message]})
    return nomination_create(
        nominator=nominator, round=round, nominee_id=nominee_id, reason=reason if reason else kudos.message, evidence=[kudos]
    )

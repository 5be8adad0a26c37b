"""Reads, scoped to the acting user's organisation and eager-loaded (a fixed number of queries per page)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from accounts.models import User
from media.models import AVATAR
from recognition.models import AwardCategory, AwardResult, AwardRound, CompanyValue, Endorsement, Kudos, KudosRecipient, Nomination
from recognition.services.common import audience_q
from server.api.exceptions import NotFound


def value_list(*, user: User) -> QuerySet[CompanyValue]:
    values = CompanyValue.objects.filter(organization_id=user.organization_id)
    if not user.is_org_admin:
        values = values.filter(active=True)
    return values.order_by("position", "id")


def access_value(*, user: User, value_id: int) -> CompanyValue:
    value = value_list(user=user).filter(pk=value_id).first()
    if value is None:
        raise NotFound()
    return value


def _recipients_prefetch() -> Prefetch:
    return Prefetch("recipient_links", queryset=KudosRecipient.objects.select_related("recipient", f"recipient__{AVATAR}").order_by("id"))


def kudos_list(
    *,
    user: User,
    recipient_id: int | None = None,
    given_by_id: int | None = None,
    value_id: int | None = None,
    key_moment_id: int | None = None,
) -> QuerySet[Kudos]:
    # Kudos are public thank-yous: everyone in the organisation sees all of them. The filters
    # narrow within the organisation, so another organisation's id simply finds nothing.
    kudos = Kudos.objects.filter(organization_id=user.organization_id)
    if recipient_id is not None:
        kudos = kudos.filter(recipient_links__recipient_id=recipient_id)
    if given_by_id is not None:
        kudos = kudos.filter(giver_id=given_by_id)
    if value_id is not None:
        kudos = kudos.filter(value_id=value_id)
    if key_moment_id is not None:
        kudos = kudos.filter(key_moment_id=key_moment_id)
    return (
        kudos.select_related("giver", f"giver__{AVATAR}", "value", "image", "key_moment")
        .prefetch_related(_recipients_prefetch())
        .order_by("-created_at", "-id")
    )


def access_kudos(*, user: User, kudos_id: int) -> Kudos:
    kudos = kudos_list(user=user).filter(pk=kudos_id).first()
    if kudos is None:
        raise NotFound()
    return kudos


def category_list(*, user: User) -> QuerySet[AwardCategory]:
    """Leaders and admins see every category; others the active ones whose audience includes them."""
    categories = AwardCategory.objects.filter(organization_id=user.organization_id)
    if not user.is_leader_or_admin:
        categories = categories.filter(audience_q(user=user), active=True)
    return categories.prefetch_related("groups").order_by("name", "id")


def access_category(*, user: User, category_id: int) -> AwardCategory:
    category = category_list(user=user).filter(pk=category_id).first()
    if category is None:
        raise NotFound()
    return category


def round_list(*, user: User, status: str | None = None, month: dt.date | None = None) -> QuerySet[AwardRound]:
    rounds = AwardRound.objects.filter(organization_id=user.organization_id)
    if not user.is_leader_or_admin:
        rounds = rounds.filter(audience_q(user=user, category_ref="category_id"))
    if status:
        rounds = rounds.filter(status=status)
    if month:
        rounds = rounds.filter(month=month)
    return (
        rounds.select_related("category", "picked_by")
        .annotate(my_nomination_count=Count("nominations", filter=Q(nominations__nominator=user)))
        .order_by("-month", "-id")
    )


def access_round(*, user: User, round_id: int) -> AwardRound:
    round = round_list(user=user).filter(pk=round_id).first()
    if round is None:
        raise NotFound()
    return round


def _nominations(*, user: User) -> QuerySet[Nomination]:
    return (
        Nomination.objects.select_related("nominee", f"nominee__{AVATAR}", "nominator", f"nominator__{AVATAR}", "round__category")
        .annotate(
            endorsement_count=Count("endorsements", distinct=True),
            endorsed_by_me=Exists(Endorsement.objects.filter(nomination=OuterRef("pk"), user=user)),
        )
        .prefetch_related(Prefetch("evidence_kudos", queryset=Kudos.objects.only("id", "giver_id")))
    )


def nomination_list(*, user: User, round: AwardRound, mine: bool = False, endorsed: bool = False) -> QuerySet[Nomination]:
    """Every nomination of a round the user can see, so colleagues can second them (issue #22);
    who nominated is left out by the serializer where the category is confidential."""
    nominations = _nominations(user=user).filter(round=round)
    if mine:
        nominations = nominations.filter(nominator=user)
    if endorsed:
        nominations = nominations.filter(endorsed_by_me=True)
    return nominations.order_by("created_at", "id")


def access_nomination(*, user: User, nomination_id: int) -> Nomination:
    """A nomination in a round the user can see (endorsing needs only its id, shared by colleagues)."""
    nomination = _nominations(user=user).filter(pk=nomination_id, round__in=round_list(user=user).values("pk")).first()
    if nomination is None:
        raise NotFound()
    return nomination


def can_see_nominators(*, user: User, category: AwardCategory) -> bool:
    """Confidential categories show who nominated whom to admins only."""
    return user.is_org_admin or not category.confidential


def result_list(*, round: AwardRound) -> QuerySet[AwardResult]:
    return AwardResult.objects.filter(round=round).select_related("nominee", f"nominee__{AVATAR}").order_by("rank", "id")


def wall_winners(*, user: User, since: dt.datetime, until: dt.datetime) -> QuerySet[AwardResult]:
    """Winners announced in [since, until) of the categories the user may see (as the rounds list)."""
    winners = AwardResult.objects.filter(
        is_winner=True,
        round__organization_id=user.organization_id,
        round__status="announced",
        round__announced_at__gte=since,
        round__announced_at__lt=until,
    )
    if not user.is_leader_or_admin:
        winners = winners.filter(audience_q(user=user, category_ref="round__category_id"))
    return winners.select_related("round__category", "nominee", f"nominee__{AVATAR}").order_by(
        "round__category__name", "round__month", "round_id"
    )


def award_wins(*, subject: User) -> QuerySet[AwardResult]:
    return (
        AwardResult.objects.filter(nominee=subject, is_winner=True, round__status="announced")
        .select_related("round__category")
        .order_by("-round__month", "-id")
    )


def key_moment_kudos_since(since: dt.datetime) -> Count:
    """Kudos citing each key moment since `since`: what recognition adds to the feed's key moments
    (feed.selectors.key_moment_counts, filled in RecognitionConfig.ready) through its own relation."""
    return Count("kudos", filter=Q(kudos__created_at__gte=since), distinct=True)


def kudos_left(user: User) -> int | None:
    """Kudos `user` may still give this month (`/me`); None when the organisation sets no allowance.

    The same count kudos_give checks (recognition.services.kudos._check_allowance); no query
    when there is no allowance, so `/me` keeps its two queries for most organisations.
    """
    from django.utils import timezone

    from recognition.months import month_of, month_start

    organization = user.organization
    if organization is None or organization.kudos_monthly_allowance is None:
        return None
    since = month_start(month_of(timezone.now(), organization.timezone), organization.timezone)
    given = Kudos.objects.filter(giver=user, created_at__gte=since).count()
    return max(0, organization.kudos_monthly_allowance - given)

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.models import Group, Language, Organization


class CompanyValue(models.Model):
    """A value the organisation stands for ("Service met een glimlach"); kudos are tagged with one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="company_values", verbose_name=_("organisation"))
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, max_length=2000, verbose_name=_("description"))
    emoji = models.CharField(max_length=16, blank=True, verbose_name=_("emoji"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    position = models.PositiveIntegerField(default=0, verbose_name=_("position"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("company value")
        verbose_name_plural = _("company values")
        constraints = [models.UniqueConstraint("organization", Lower("name"), name="company_value_name_unique_per_org")]
        indexes = [models.Index(fields=["organization", "position", "id"], name="company_value_order_idx")]

    def __str__(self) -> str:
        return self.name


class Kudos(models.Model):
    """A public thank-you from one colleague to one or more others."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kudos_given", verbose_name=_("from"))
    message = models.TextField(verbose_name=_("message"))
    # The language of the message (detected, else the giver's): the stemming of its stored
    # generated `search_vector` column (search.sql, migration 0003), no model field on purpose.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True, default="", verbose_name=_("language"))
    value = models.ForeignKey(CompanyValue, on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos", verbose_name=_("value"))
    image = models.ForeignKey("media.Media", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("photo"))
    # The step of the customer journey this kudos is about; the feed counts kudos per key moment by this name.
    key_moment = models.ForeignKey(
        "feed.KeyMoment", on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos", verbose_name=_("key moment")
    )
    # The kudos' card in the feed, created in the same transaction.
    post = models.OneToOneField(
        "feed.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos_record", verbose_name=_("post")
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("kudos")
        verbose_name_plural = _("kudos")
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="kudos_org_recent_idx"),
            # The monthly allowance counts a giver's kudos since the 1st.
            models.Index(fields=["giver", "created_at"], name="kudos_giver_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class KudosRecipient(models.Model):
    kudos = models.ForeignKey(Kudos, on_delete=models.CASCADE, related_name="recipient_links")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kudos_received_links")
    # Copied from the kudos so that "no self-kudos" can be a database constraint.
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("kudos recipient")
        verbose_name_plural = _("kudos recipients")
        constraints = [
            models.UniqueConstraint(fields=["kudos", "recipient"], name="kudos_recipient_unique"),
            models.CheckConstraint(condition=~models.Q(recipient=models.F("giver")), name="kudos_no_self_kudos"),
        ]
        indexes = [models.Index(fields=["recipient", "created_at"], name="kudos_recipient_recent_idx")]


class DecisionMethod(models.TextChoices):
    MOST_NOMINATIONS = "most_nominations", _("Most nominations")
    LEADER_PICK = "leader_pick", _("Leader's pick")


class AwardCategory(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="award_categories", verbose_name=_("organisation")
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    description = models.TextField(blank=True, max_length=2000, verbose_name=_("description"))
    icon = models.CharField(max_length=16, blank=True, verbose_name=_("icon"))
    method = models.CharField(
        max_length=20, choices=DecisionMethod.choices, default=DecisionMethod.MOST_NOMINATIONS, verbose_name=_("method")
    )
    confidential = models.BooleanField(
        default=False, help_text=_("Nominator names are visible to admins only."), verbose_name=_("confidential")
    )
    max_nominations_per_nominator = models.PositiveSmallIntegerField(default=3, verbose_name=_("nominations per person"))
    leader_pick_days = models.PositiveSmallIntegerField(
        default=7,
        help_text=_("Leader-pick rounds fall back to most nominations when nobody picked within this many days."),
        verbose_name=_("days for the leader's pick"),
    )
    # Empty = the whole organisation may nominate and be nominated.
    groups = models.ManyToManyField(Group, blank=True, related_name="+", verbose_name=_("groups"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("award category")
        verbose_name_plural = _("award categories")
        constraints = [
            models.UniqueConstraint("organization", Lower("name"), name="award_category_name_unique_per_org"),
            models.CheckConstraint(condition=models.Q(max_nominations_per_nominator__gte=1), name="award_category_limit_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class RoundStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    ANNOUNCED = "announced", _("Announced")


class AwardRound(models.Model):
    """One calendar month (in the organisation's time zone) of one category."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    category = models.ForeignKey(AwardCategory, on_delete=models.CASCADE, related_name="rounds", verbose_name=_("category"))
    month = models.DateField(help_text=_("First day of the month, in the organisation's calendar."), verbose_name=_("month"))
    status = models.CharField(max_length=12, choices=RoundStatus.choices, default=RoundStatus.OPEN, verbose_name=_("status"))
    # The month's boundaries as instants, fixed when the round opens, so closing is one indexed comparison.
    opens_at = models.DateTimeField(verbose_name=_("opens"))
    closes_at = models.DateTimeField(verbose_name=_("closes"))
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("closed by")
    )
    pick_deadline = models.DateTimeField(null=True, blank=True, verbose_name=_("pick deadline"))
    decided_by = models.CharField(max_length=32, blank=True, help_text=_("The rule that decided the winner."), verbose_name=_("decided by"))
    picked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("picked by")
    )
    pick_reason = models.TextField(
        blank=True,
        max_length=2000,
        help_text=_("The leader's own words on why they picked the winner."),
        verbose_name=_("reason for the pick"),
    )
    announced_at = models.DateTimeField(null=True, blank=True, verbose_name=_("announced"))
    post = models.OneToOneField(
        "feed.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="award_round", verbose_name=_("post")
    )

    class Meta:
        verbose_name = _("award round")
        verbose_name_plural = _("award rounds")
        constraints = [
            models.UniqueConstraint(fields=["category", "month"], name="award_round_one_per_month"),
            models.CheckConstraint(condition=models.Q(opens_at__lt=models.F("closes_at")), name="award_round_opens_before_close"),
        ]
        indexes = [
            models.Index(fields=["status", "closes_at"], name="award_round_due_idx"),
            models.Index(fields=["organization", "-month", "-id"], name="award_round_org_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.category} {self.month_label}"

    @property
    def month_label(self) -> str:
        return self.month.strftime("%Y-%m")


class Nomination(models.Model):
    round = models.ForeignKey(AwardRound, on_delete=models.CASCADE, related_name="nominations", verbose_name=_("round"))
    nominator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nominations_made", verbose_name=_("nominated by")
    )
    nominee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nominations_received", verbose_name=_("nominee")
    )
    reason = models.TextField(verbose_name=_("reason"))
    evidence_kudos = models.ManyToManyField(Kudos, blank=True, related_name="nominations", verbose_name=_("kudos as evidence"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("nomination")
        verbose_name_plural = _("nominations")
        constraints = [
            models.UniqueConstraint(fields=["round", "nominator", "nominee"], name="nomination_unique_per_round"),
            models.CheckConstraint(condition=~models.Q(nominator=models.F("nominee")), name="nomination_no_self"),
        ]
        indexes = [models.Index(fields=["round", "nominee"], name="nomination_by_nominee_idx")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class Endorsement(models.Model):
    """A colleague seconds a nomination."""

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="endorsements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("endorsement")
        verbose_name_plural = _("endorsements")
        constraints = [models.UniqueConstraint(fields=["nomination", "user"], name="endorsement_unique")]


class AwardResult(models.Model):
    """One nominee's standing when the round closed: the counts that decided, kept for "why this winner"."""

    round = models.ForeignKey(AwardRound, on_delete=models.CASCADE, related_name="results", verbose_name=_("round"))
    nominee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="award_results", verbose_name=_("nominee"))
    rank = models.PositiveIntegerField(verbose_name=_("rank"))
    nomination_count = models.PositiveIntegerField(verbose_name=_("nominations"))
    endorsement_count = models.PositiveIntegerField(verbose_name=_("endorsements"))
    first_nominated_at = models.DateTimeField(verbose_name=_("first nominated"))
    is_winner = models.BooleanField(default=False, verbose_name=_("winner"))
    reason = models.TextField(blank=True, help_text=_("The nomination reason quoted in the announcement."), verbose_name=_("reason"))

    class Meta:
        verbose_name = _("award result")
        verbose_name_plural = _("award results")
        constraints = [
            models.UniqueConstraint(fields=["round", "nominee"], name="award_result_unique"),
            models.UniqueConstraint(fields=["round", "rank"], name="award_result_rank_unique"),
        ]
        indexes = [models.Index(fields=["nominee", "is_winner"], name="award_result_wins_idx")]

    def __str__(self) -> str:
        return self.nominee.name


class AuditAction(models.TextChoices):
    NOMINATION_CREATED = "nomination.created"
    ENDORSEMENT_CREATED = "endorsement.created"
    ROUND_CLOSED = "round.closed"
    WINNER_PICKED = "round.winner_picked"
    SELF_PICK_REFUSED = "round.self_pick_refused"
    PICK_FALLBACK = "round.pick_fallback"
    ROUND_ANNOUNCED = "round.announced"


class RecognitionAuditEntry(models.Model):
    """Append-only record of what decided an award; the moderation audit log may fold these in."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("done by")
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices, verbose_name=_("action"))
    round = models.ForeignKey(
        AwardRound, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries", verbose_name=_("round")
    )
    nomination = models.ForeignKey(
        Nomination, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("nomination")
    )
    data = models.JSONField(default=dict, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("recognition log entry")
        verbose_name_plural = _("recognition log")
        indexes = [models.Index(fields=["organization", "-created_at", "-id"], name="recognition_audit_recent_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.pk}"

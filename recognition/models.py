from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.models import Group, Organization


class CompanyValue(models.Model):
    """A value the organisation stands for ("Service met een glimlach"); kudos are tagged with one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="company_values")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    emoji = models.CharField(max_length=16, blank=True)
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint("organization", Lower("name"), name="company_value_name_unique_per_org")]
        indexes = [models.Index(fields=["organization", "position", "id"], name="company_value_order_idx")]

    def __str__(self) -> str:
        return self.name


class Kudos(models.Model):
    """A public thank-you from one colleague to one or more others."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kudos_given")
    message = models.TextField()
    value = models.ForeignKey(CompanyValue, on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos")
    image = models.ForeignKey("media.Media", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The step of the customer journey this kudos is about; the feed counts kudos per key moment by this name.
    key_moment = models.ForeignKey("feed.KeyMoment", on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos")
    # The kudos' card in the feed, created in the same transaction.
    post = models.OneToOneField("feed.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="kudos_record")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "kudos"
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="kudos_org_recent_idx"),
            # The monthly allowance counts a giver's kudos since the 1st.
            models.Index(fields=["giver", "created_at"], name="kudos_giver_month_idx"),
        ]


class KudosRecipient(models.Model):
    kudos = models.ForeignKey(Kudos, on_delete=models.CASCADE, related_name="recipient_links")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="kudos_received_links")
    # Copied from the kudos so that "no self-kudos" can be a database constraint.
    giver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kudos", "recipient"], name="kudos_recipient_unique"),
            models.CheckConstraint(condition=~models.Q(recipient=models.F("giver")), name="kudos_no_self_kudos"),
        ]
        indexes = [models.Index(fields=["recipient", "created_at"], name="kudos_recipient_recent_idx")]


class DecisionMethod(models.TextChoices):
    MOST_NOMINATIONS = "most_nominations", _("Most nominations")
    LEADER_PICK = "leader_pick", _("Leader's pick")


class AwardCategory(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="award_categories")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=2000)
    icon = models.CharField(max_length=16, blank=True)
    method = models.CharField(max_length=20, choices=DecisionMethod.choices, default=DecisionMethod.MOST_NOMINATIONS)
    confidential = models.BooleanField(default=False, help_text="Nominator names are visible to admins only.")
    max_nominations_per_nominator = models.PositiveSmallIntegerField(default=3)
    leader_pick_days = models.PositiveSmallIntegerField(
        default=7, help_text="Leader-pick rounds fall back to most nominations when nobody picked within this many days."
    )
    # Empty = the whole organisation may nominate and be nominated.
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "award categories"
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

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(AwardCategory, on_delete=models.CASCADE, related_name="rounds")
    month = models.DateField(help_text="First day of the month, in the organisation's calendar.")
    status = models.CharField(max_length=12, choices=RoundStatus.choices, default=RoundStatus.OPEN)
    # The month's boundaries as instants, fixed when the round opens, so closing is one indexed comparison.
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    pick_deadline = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=32, blank=True, help_text="The rule that decided the winner.")
    picked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    announced_at = models.DateTimeField(null=True, blank=True)
    post = models.OneToOneField("feed.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="award_round")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["category", "month"], name="award_round_one_per_month"),
            models.CheckConstraint(condition=models.Q(opens_at__lt=models.F("closes_at")), name="award_round_opens_before_close"),
        ]
        indexes = [
            models.Index(fields=["status", "closes_at"], name="award_round_due_idx"),
            models.Index(fields=["organization", "-month", "-id"], name="award_round_org_month_idx"),
        ]

    @property
    def month_label(self) -> str:
        return self.month.strftime("%Y-%m")


class Nomination(models.Model):
    round = models.ForeignKey(AwardRound, on_delete=models.CASCADE, related_name="nominations")
    nominator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nominations_made")
    nominee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nominations_received")
    reason = models.TextField()
    evidence_kudos = models.ManyToManyField(Kudos, blank=True, related_name="nominations")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "nominator", "nominee"], name="nomination_unique_per_round"),
            models.CheckConstraint(condition=~models.Q(nominator=models.F("nominee")), name="nomination_no_self"),
        ]
        indexes = [models.Index(fields=["round", "nominee"], name="nomination_by_nominee_idx")]


class Endorsement(models.Model):
    """A colleague seconds a nomination."""

    nomination = models.ForeignKey(Nomination, on_delete=models.CASCADE, related_name="endorsements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["nomination", "user"], name="endorsement_unique")]


class AwardResult(models.Model):
    """One nominee's standing when the round closed: the counts that decided, kept for "why this winner"."""

    round = models.ForeignKey(AwardRound, on_delete=models.CASCADE, related_name="results")
    nominee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="award_results")
    rank = models.PositiveIntegerField()
    nomination_count = models.PositiveIntegerField()
    endorsement_count = models.PositiveIntegerField()
    first_nominated_at = models.DateTimeField()
    is_winner = models.BooleanField(default=False)
    reason = models.TextField(blank=True, help_text="The nomination reason quoted in the announcement.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["round", "nominee"], name="award_result_unique"),
            models.UniqueConstraint(fields=["round", "rank"], name="award_result_rank_unique"),
        ]
        indexes = [models.Index(fields=["nominee", "is_winner"], name="award_result_wins_idx")]


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

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    round = models.ForeignKey(AwardRound, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_entries")
    nomination = models.ForeignKey(Nomination, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "recognition audit entries"
        indexes = [models.Index(fields=["organization", "-created_at", "-id"], name="recognition_audit_recent_idx")]

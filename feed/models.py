"""Posts and what people do with them: comments, mentions, reactions, acknowledgements, impressions."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Group, Language, Organization, User


class PostKind(models.TextChoices):
    POST = "post", _("Post")
    ANNOUNCEMENT = "announcement", _("Announcement")
    KUDOS = "kudos", _("Kudos")
    AWARD = "award", _("Award")
    GOAL_UPDATE = "goal_update", _("Goal update")
    KEY_MOMENT = "key_moment", _("Key moment")
    YOU_SAID_WE_DID = "you_said_we_did", _("You said, we did")


# Kinds people write themselves; the others are written by the apps that own them
# (recognition, goals) through post_create_system.
MEMBER_KINDS = (PostKind.POST, PostKind.ANNOUNCEMENT)
SYSTEM_KINDS = (PostKind.KUDOS, PostKind.AWARD, PostKind.GOAL_UPDATE, PostKind.KEY_MOMENT, PostKind.YOU_SAID_WE_DID)
MEMBER_KIND_CHOICES = [(kind.value, kind.label) for kind in MEMBER_KINDS]
# Where a card carries its kind's payload (Post.card). Every card has every key, null but its
# own, so a client may test the key or switch on `kind`.
CARD_PAYLOAD_KEYS = {
    PostKind.KUDOS: "kudos",
    PostKind.AWARD: "award",
    PostKind.GOAL_UPDATE: "goal",
    PostKind.KEY_MOMENT: "key_moment",
    PostKind.YOU_SAID_WE_DID: "signal",  # written by voice
}


class CardKindChoices:
    """The one-kind `kind` of each card variant with a payload (feed.serializers.post_card_variants),
    named in settings.SPECTACULAR_SETTINGS: the same choice set appears in a card and in its
    `post.updated` event, and the schema names it once."""

    kudos = [(PostKind.KUDOS.value, PostKind.KUDOS.label)]
    award = [(PostKind.AWARD.value, PostKind.AWARD.label)]
    goal_update = [(PostKind.GOAL_UPDATE.value, PostKind.GOAL_UPDATE.label)]
    key_moment = [(PostKind.KEY_MOMENT.value, PostKind.KEY_MOMENT.label)]
    you_said_we_did = [(PostKind.YOU_SAID_WE_DID.value, PostKind.YOU_SAID_WE_DID.label)]


class ReactionType(models.TextChoices):
    LIKE = "like", _("Like")
    HEART = "heart", _("Heart")
    CLAP = "clap", _("Clap")
    CELEBRATE = "celebrate", _("Celebrate")
    INSIGHTFUL = "insightful", _("Insightful")


class Post(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="posts", verbose_name=_("organisation"))
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="posts", verbose_name=_("author"))
    kind = models.CharField(max_length=16, choices=PostKind.choices, default=PostKind.POST, verbose_name=_("kind"))
    body = models.TextField(blank=True, verbose_name=_("text"))
    # The language of its text (detected, else the writer's; "" unknown): picks the stemming of
    # the stored generated `search_vector` column (search.sql, migration 0005), which is no
    # model field so that no query of the model fetches it.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True, default="", verbose_name=_("language"))
    # Kind-specific data written by the app that created the post (kudos, award, goal),
    # denormalised so a card renders without a query into that app.
    card = models.JSONField(default=dict, blank=True, verbose_name=_("card"))
    # Audience: the whole organisation, or the groups in PostGroup (never both, never neither).
    org_wide = models.BooleanField(default=True, verbose_name=_("whole organisation"))
    groups = models.ManyToManyField(Group, through="PostGroup", related_name="posts", blank=True, verbose_name=_("groups"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))
    # Scheduled time asked for; the post stays invisible until published_at is set.
    publish_at = models.DateTimeField(null=True, blank=True, verbose_name=_("publish at"))
    # Set once, when the post becomes visible (now, or by the scheduler): the feed's sort key.
    published_at = models.DateTimeField(null=True, blank=True, verbose_name=_("published"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited"))
    # Any change a phone must refetch (publish, edit, pin, removal, hiding): the catch-up cursor.
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated"))
    pinned = models.BooleanField(default=False, verbose_name=_("pinned"))
    pinned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("pinned at"))
    requires_acknowledgement = models.BooleanField(default=False, verbose_name=_("needs acknowledgement"))
    # Mandatory reads: reminders before it, a summary of who has not acknowledged after it.
    acknowledgement_deadline = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledgement deadline"))
    # Soft delete: catch-up must be able to tell phones the post is gone.
    removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("removed"))
    removed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("removed by"))
    # Set by moderation through feed.services.post_set_visibility only.
    hidden_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hidden"))
    hidden_reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason hidden"))
    # Not stored: the viewer-neutral card that publishing this instance emitted. For the author
    # of a post just created it is their card too (no reaction or acknowledgement of theirs can
    # exist yet), so the create response does not build a second one.
    published_card: dict | None = None

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        constraints = [
            models.CheckConstraint(condition=Q(pinned=False) | Q(pinned_at__isnull=False), name="post_pinned_has_time"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in PostKind]), name="post_kind_known"),
            models.CheckConstraint(
                condition=Q(acknowledgement_deadline__isnull=True) | Q(requires_acknowledgement=True), name="post_deadline_needs_ack"
            ),
        ]
        indexes = [
            # The feed: WHERE organization_id = ? AND <visible> ORDER BY published_at DESC, id DESC LIMIT n,
            # continued by the keyset (published_at, id) < (?, ?). A backward index range scan on
            # this partial index serves every page without sorting; removed, hidden and
            # scheduled posts are not in it, so they cost nothing however many there are.
            models.Index(
                fields=["organization", "published_at", "id"],
                name="post_feed_idx",
                condition=Q(published_at__isnull=False, removed_at__isnull=True, hidden_at__isnull=True),
            ),
            # Page 1's pinned block: few rows, found without touching the big index.
            models.Index(fields=["organization", "pinned_at"], name="post_pinned_idx", condition=Q(pinned=True)),
            # Catch-up: WHERE organization_id = ? AND (updated_at, id) > (?, ?) ORDER BY updated_at, id.
            models.Index(fields=["organization", "updated_at", "id"], name="post_updates_idx"),
            # The scheduler: posts due for publishing, a tiny set.
            models.Index(fields=["publish_at"], name="post_due_idx", condition=Q(published_at__isnull=True)),
            # The reminder task: mandatory reads with a deadline, a tiny set.
            models.Index(
                fields=["acknowledgement_deadline"], name="post_ack_deadline_idx", condition=Q(acknowledgement_deadline__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class PostGroup(models.Model):
    """The groups a post is addressed to (empty for org-wide posts)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="audience_groups")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("post group")
        verbose_name_plural = _("post groups")
        constraints = [models.UniqueConstraint(fields=["post", "group"], name="postgroup_unique")]
        # Visibility is `post_id IN (SELECT post_id ... WHERE group_id IN <my groups>)`.
        indexes = [models.Index(fields=["group", "post"], name="postgroup_by_group_idx")]


class PostImage(models.Model):
    """A photo of a post, in the order the author chose. The upload itself lives in media."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="images")
    # One upload, one use (media_claim enforces it too; the constraint makes it a fact).
    media = models.OneToOneField("media.Media", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("post photo")
        verbose_name_plural = _("post photos")
        constraints = [models.UniqueConstraint(fields=["post", "position"], name="postimage_position_unique")]


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments", verbose_name=_("post"))
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="feed_comments", verbose_name=_("author"))
    body = models.TextField(verbose_name=_("text"))
    # As Post.language.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True, default="", verbose_name=_("language"))
    # A reply names the comment it answers; replies are one level deep (a reply's parent has none),
    # which comment_create checks: a thread is a list of comments, each with its replies.
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies", verbose_name=_("reply to"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))
    edited_at = models.DateTimeField(null=True, blank=True, verbose_name=_("edited"))
    removed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("removed"))
    hidden_at = models.DateTimeField(null=True, blank=True, verbose_name=_("hidden"))
    hidden_reason = models.CharField(max_length=500, blank=True, verbose_name=_("reason hidden"))
    mentions = models.ManyToManyField(User, through="CommentMention", related_name="+", blank=True, verbose_name=_("mentions"))

    class Meta:
        # Comments of a post, oldest first, keyset on (created_at, id); also feeds comment_count.
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        indexes = [
            models.Index(
                fields=["post", "created_at", "id"],
                name="comment_thread_idx",
                condition=Q(removed_at__isnull=True, hidden_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"


class CommentMention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mention_links")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="commentmention_unique")]


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=16, choices=ReactionType.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("emoji reaction")
        verbose_name_plural = _("emoji reactions")
        constraints = [
            # One reaction per person per post, whatever races the phones run.
            models.UniqueConstraint(fields=["post", "user"], name="reaction_one_per_user"),
            models.CheckConstraint(condition=Q(type__in=[t.value for t in ReactionType]), name="reaction_type_known"),
        ]
        indexes = [
            # Counts per type for a page of posts: GROUP BY post_id, type over an index-only scan.
            models.Index(fields=["post", "type"], name="reaction_counts_idx"),
            # Who reacted: a post's reactions newest first, keyset on (created_at, id).
            models.Index(fields=["post", "created_at", "id"], name="reaction_people_idx"),
        ]


class Acknowledgement(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # The moment the person tapped "read" (the phone's time when it was offline).
    acknowledged_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Also serves "did I acknowledge these posts": post_id IN (...) AND user_id = ?.
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="acknowledgement_unique")]


class PostSeen(models.Model):
    """An impression: the post was on someone's screen. First sight only, for reach."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="impressions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("post view")
        verbose_name_plural = _("post views")
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="postseen_unique")]


# --- Goals, key moments, mandatory reads (issue 7) ----------------------------------------------


class GoalStatus(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    ACHIEVED = "achieved", _("Achieved")
    ARCHIVED = "archived", _("Archived")


class Goal(models.Model):
    """What the organisation (or some groups) is aiming for, why it matters and how to help."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="goals", verbose_name=_("organisation"))
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="goals_owned", verbose_name=_("owner"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    why = models.TextField(blank=True, verbose_name=_("why it matters"))
    how_to_help = models.TextField(blank=True, verbose_name=_("how to help"))
    # As Post.language.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True, default="", verbose_name=_("language"))
    target_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True, verbose_name=_("target value"))
    current_value = models.DecimalField(max_digits=14, decimal_places=2, default=0, verbose_name=_("current value"))
    unit = models.CharField(max_length=32, blank=True, verbose_name=_("unit"))
    due_date = models.DateField(null=True, blank=True, verbose_name=_("due date"))
    status = models.CharField(max_length=16, choices=GoalStatus.choices, default=GoalStatus.ON_TRACK, verbose_name=_("status"))
    org_wide = models.BooleanField(default=True, verbose_name=_("whole organisation"))
    groups = models.ManyToManyField(Group, through="GoalGroup", related_name="goals", blank=True, verbose_name=_("groups"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated"))
    achieved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("achieved"))

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        constraints = [
            models.CheckConstraint(condition=Q(status__in=[s.value for s in GoalStatus]), name="goal_status_known"),
            models.CheckConstraint(condition=Q(target_value__isnull=True) | Q(target_value__gt=0), name="goal_target_positive"),
            models.CheckConstraint(condition=~Q(status=GoalStatus.ACHIEVED) | Q(achieved_at__isnull=False), name="goal_achieved_has_time"),
        ]
        # The Goals tab: active goals of an organisation, newest first, keyset on (created_at, id).
        indexes = [models.Index(fields=["organization", "status", "created_at", "id"], name="goal_list_idx")]

    def __str__(self) -> str:
        return self.title

    @property
    def progress(self) -> float | None:
        if not self.target_value:
            return None
        return float(min(max(self.current_value / self.target_value, 0), 1))


class GoalGroup(models.Model):
    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="audience_groups")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("goal group")
        verbose_name_plural = _("goal groups")
        constraints = [models.UniqueConstraint(fields=["goal", "group"], name="goalgroup_unique")]
        indexes = [models.Index(fields=["group", "goal"], name="goalgroup_by_group_idx")]


class GoalUpdate(models.Model):
    """One progress report; each is also a goal_update post in the feed."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    note = models.TextField(blank=True)
    previous_value = models.DecimalField(max_digits=14, decimal_places=2)
    current_value = models.DecimalField(max_digits=14, decimal_places=2)
    reached_target = models.BooleanField(default=False)
    post = models.OneToOneField(Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="goal_update")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("goal update")
        verbose_name_plural = _("goal updates")
        indexes = [models.Index(fields=["goal", "created_at", "id"], name="goalupdate_history_idx")]


class KeyMoment(models.Model):
    """A step of the customer journey and what staff may and must do at it.

    Recognition links kudos to it with a ForeignKey("feed.KeyMoment", related_name="kudos");
    the feed counts them through that name without importing recognition.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="key_moments", verbose_name=_("organisation"))
    title = models.CharField(max_length=200, verbose_name=_("title"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    expected_behaviour = models.TextField(blank=True, verbose_name=_("expected behaviour"))
    # As Post.language.
    language = models.CharField(max_length=2, choices=Language.choices, blank=True, default="", verbose_name=_("language"))
    # 1..n within the organisation, rewritten as a whole on every reorder.
    position = models.PositiveIntegerField(verbose_name=_("position"))
    org_wide = models.BooleanField(default=True, verbose_name=_("whole organisation"))
    groups = models.ManyToManyField(Group, through="KeyMomentGroup", related_name="key_moments", blank=True, verbose_name=_("groups"))
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated"))
    # Archived: out of the journey (positions 1..n count the others), the tab and new kudos; kudos
    # that cite it keep it. Leaders and admins list archived ones and bring them back (last).
    archived_at = models.DateTimeField(null=True, blank=True, verbose_name=_("archived"))

    class Meta:
        verbose_name = _("key moment")
        verbose_name_plural = _("key moments")
        indexes = [models.Index(fields=["organization", "position", "id"], name="keymoment_journey_idx")]

    def __str__(self) -> str:
        return self.title


class KeyMomentGroup(models.Model):
    key_moment = models.ForeignKey(KeyMoment, on_delete=models.CASCADE, related_name="audience_groups")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("key moment group")
        verbose_name_plural = _("key moment groups")
        constraints = [models.UniqueConstraint(fields=["key_moment", "group"], name="keymomentgroup_unique")]
        indexes = [models.Index(fields=["group", "key_moment"], name="keymomentgroup_by_group_idx")]


class AcknowledgementReminder(models.Model):
    """A reminder round for a mandatory read: sent once per (post, offset)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="acknowledgement_reminders")
    offset_minutes = models.PositiveIntegerField(help_text="How long before the deadline.")
    sent_at = models.DateTimeField(default=timezone.now)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("acknowledgement reminder")
        verbose_name_plural = _("acknowledgement reminders")
        constraints = [models.UniqueConstraint(fields=["post", "offset_minutes"], name="ack_reminder_once_per_offset")]


class AcknowledgementNudge(models.Model):
    """A leader's "remind now" of a mandatory read: who asked, when, how many were reminded.

    The latest one per post sets when the next may go (at most one an hour, feed.services.remind_now).
    """

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="acknowledgement_nudges")
    sent_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    recipient_count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("acknowledgement reminder sent by hand")
        verbose_name_plural = _("acknowledgement reminders sent by hand")
        indexes = [models.Index(fields=["post", "sent_at"], name="ack_nudge_latest_idx")]


class AcknowledgementEscalation(models.Model):
    """After the deadline: who still had not acknowledged, as sent to the author and group managers."""

    post = models.OneToOneField(Post, on_delete=models.CASCADE, related_name="acknowledgement_escalation")
    sent_at = models.DateTimeField(default=timezone.now)
    audience_count = models.PositiveIntegerField()
    acknowledged_count = models.PositiveIntegerField()
    not_acknowledged_user_ids = models.JSONField(default=list)
    recipient_ids = models.JSONField(default=list)

    class Meta:
        verbose_name = _("acknowledgement escalation")
        verbose_name_plural = _("acknowledgement escalations")


# Polls (issue #21) live in their own module; importing them here registers them with the app.
from feed.poll_models import Poll, PollOption, PollResults, PollVote  # noqa: E402, F401

"""Posts and what people do with them: comments, mentions, reactions, acknowledgements, impressions."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Group, Organization, User


class PostKind(models.TextChoices):
    POST = "post", _("Post")
    ANNOUNCEMENT = "announcement", _("Announcement")
    KUDOS = "kudos", _("Kudos")
    AWARD = "award", _("Award")
    GOAL_UPDATE = "goal_update", _("Goal update")
    KEY_MOMENT = "key_moment", _("Key moment")


# Kinds people write themselves; the others are written by the apps that own them
# (recognition, goals) through post_create_system.
MEMBER_KINDS = (PostKind.POST, PostKind.ANNOUNCEMENT)
SYSTEM_KINDS = (PostKind.KUDOS, PostKind.AWARD, PostKind.GOAL_UPDATE, PostKind.KEY_MOMENT)
MEMBER_KIND_CHOICES = [(kind.value, kind.label) for kind in MEMBER_KINDS]


class ReactionType(models.TextChoices):
    LIKE = "like", _("Like")
    HEART = "heart", _("Heart")
    CLAP = "clap", _("Clap")
    CELEBRATE = "celebrate", _("Celebrate")
    INSIGHTFUL = "insightful", _("Insightful")


class Post(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="posts")
    kind = models.CharField(max_length=16, choices=PostKind.choices, default=PostKind.POST)
    body = models.TextField(blank=True)
    # Kind-specific data written by the app that created the post (kudos, award, goal),
    # denormalised so a card renders without a query into that app.
    card = models.JSONField(default=dict, blank=True)
    # Audience: the whole organisation, or the groups in PostGroup (never both, never neither).
    org_wide = models.BooleanField(default=True)
    groups = models.ManyToManyField(Group, through="PostGroup", related_name="posts", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Scheduled time asked for; the post stays invisible until published_at is set.
    publish_at = models.DateTimeField(null=True, blank=True)
    # Set once, when the post becomes visible (now, or by the scheduler): the feed's sort key.
    published_at = models.DateTimeField(null=True, blank=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    # Any change a phone must refetch (publish, edit, pin, removal, hiding): the catch-up cursor.
    updated_at = models.DateTimeField(default=timezone.now)
    pinned = models.BooleanField(default=False)
    pinned_at = models.DateTimeField(null=True, blank=True)
    requires_acknowledgement = models.BooleanField(default=False)
    # Soft delete: catch-up must be able to tell phones the post is gone.
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Set by moderation through feed.services.post_set_visibility only.
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(pinned=False) | Q(pinned_at__isnull=False), name="post_pinned_has_time"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in PostKind]), name="post_kind_known"),
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
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class PostGroup(models.Model):
    """The groups a post is addressed to (empty for org-wide posts)."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="audience_groups")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")

    class Meta:
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
        constraints = [models.UniqueConstraint(fields=["post", "position"], name="postimage_position_unique")]


class Comment(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(User, on_delete=models.PROTECT, related_name="feed_comments")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_reason = models.CharField(max_length=500, blank=True)
    mentions = models.ManyToManyField(User, through="CommentMention", related_name="+", blank=True)

    class Meta:
        # Comments of a post, oldest first, keyset on (created_at, id); also feeds comment_count.
        indexes = [
            models.Index(
                fields=["post", "created_at", "id"],
                name="comment_thread_idx",
                condition=Q(removed_at__isnull=True, hidden_at__isnull=True),
            )
        ]


class CommentMention(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="mention_links")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "user"], name="commentmention_unique")]


class Reaction(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=16, choices=ReactionType.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            # One reaction per person per post, whatever races the phones run.
            models.UniqueConstraint(fields=["post", "user"], name="reaction_one_per_user"),
            models.CheckConstraint(condition=Q(type__in=[t.value for t in ReactionType]), name="reaction_type_known"),
        ]
        # Counts per type for a page of posts: GROUP BY post_id, type over an index-only scan.
        indexes = [models.Index(fields=["post", "type"], name="reaction_counts_idx")]


class Acknowledgement(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="acknowledgements")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    # The moment the person tapped "read" (the phone's time when it was offline).
    acknowledged_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Also serves "did I acknowledge these posts": post_id IN (...) AND user_id = ?.
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="acknowledgement_unique")]


class PostSeen(models.Model):
    """An impression: the post was on someone's screen. First sight only, for reach."""

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="impressions")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="postseen_unique")]

"""Polls in posts (issue #21): a post may carry one poll, its options and who chose what.

Imported by feed/models.py, so Django registers these with the feed app. A poll's primary key
is its post's: the card query reaches it with the post's id, and a post has at most one.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from feed.models import Post

MIN_POLL_OPTIONS = 2
MAX_POLL_OPTIONS = 10
MAX_POLL_OPTION_LENGTH = 200


class PollResults(models.TextChoices):
    ALWAYS = "always", _("Always")
    AFTER_VOTE = "after_vote", _("After voting")
    AFTER_CLOSE = "after_close", _("After closing")


class Poll(models.Model):
    post = models.OneToOneField(Post, primary_key=True, on_delete=models.CASCADE, related_name="poll", verbose_name=_("post"))
    multiple = models.BooleanField(default=False, verbose_name=_("multiple choice"))
    results = models.CharField(max_length=16, choices=PollResults.choices, default=PollResults.ALWAYS, verbose_name=_("results shown"))
    # Anonymous: nobody learns who chose what. Named: the post's author may list the voters.
    anonymous = models.BooleanField(default=True, verbose_name=_("anonymous"))
    closes_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closes at"))
    # Set when closed early, or by the minute job once closes_at has passed; the poll is closed
    # from closes_at on either way (Poll.is_closed), the job only announces it.
    closed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("closed"))
    closed_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("closed by"))
    # People who voted (a multiple-choice voter counts once): maintained under the poll's row
    # lock with the options' vote_count, so a card reads counts instead of counting votes.
    voter_count = models.PositiveIntegerField(default=0, verbose_name=_("voters"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created"))

    class Meta:
        verbose_name = _("poll")
        verbose_name_plural = _("polls")
        constraints = [models.CheckConstraint(condition=Q(results__in=[r.value for r in PollResults]), name="poll_results_known")]
        # The closing job: open polls with a closing time, a tiny set.
        indexes = [
            models.Index(fields=["closes_at"], name="poll_closing_idx", condition=Q(closed_at__isnull=True, closes_at__isnull=False))
        ]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk}"

    def is_closed(self, now=None) -> bool:
        return self.closed_at is not None or (self.closes_at is not None and self.closes_at <= (now or timezone.now()))


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options", verbose_name=_("poll"))
    position = models.PositiveSmallIntegerField(verbose_name=_("position"))
    text = models.CharField(max_length=MAX_POLL_OPTION_LENGTH, verbose_name=_("text"))
    vote_count = models.PositiveIntegerField(default=0, verbose_name=_("votes"))

    class Meta:
        verbose_name = _("poll option")
        verbose_name_plural = _("poll options")
        constraints = [models.UniqueConstraint(fields=["poll", "position"], name="polloption_position_unique")]

    def __str__(self) -> str:
        return self.text


class PollVote(models.Model):
    """One person's choice of one option. The only link between a person and a choice: the
    API shows it to that person (my_votes) and, for a named poll, to the post's author."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("poll vote")
        verbose_name_plural = _("poll votes")
        constraints = [models.UniqueConstraint(fields=["option", "user"], name="pollvote_once_per_option")]
        # my_votes on a card and a vote change: WHERE poll_id = ? AND user_id = ?.
        indexes = [models.Index(fields=["poll", "user"], name="pollvote_mine_idx")]

"""The keyword flag: the organisation's keyword list, and queueing new content that contains one."""

from __future__ import annotations

import logging
import re

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Organization, User
from feed.models import Comment, Post
from moderation import selectors
from moderation.models import FlaggedKeyword, Report, ReportReason, ReportSource, TargetType
from moderation.services.reports import _add_report
from server.api.exceptions import ValidationFailed
from voice.models import Signal

logger = logging.getLogger("moderation.services")

MAX_KEYWORDS = 200


def keywords_matched(*, keywords: list[str], body: str) -> list[str]:
    """The keywords found in `body` as whole words, case-insensitively."""
    found = []
    for keyword in keywords:
        if re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", body, flags=re.IGNORECASE):
            found.append(keyword)
    return found


def content_flag_keywords(
    *, organization_id: int, author_id: int, post_id: int, comment_id: int | None, body: str, previous_body: str | None = None
) -> Report | None:
    """Queue new content that contains a listed keyword (a system report); the content stays as it is.

    For an edit (`previous_body` given) only keywords the edit brought in count: a flagged
    post saved again with the same words is not queued, nor its moderators told, twice.
    """
    keywords = selectors.keyword_list(organization_id=organization_id)
    matched = keywords_matched(keywords=keywords, body=body) if keywords else []
    if matched and previous_body:
        already = set(keywords_matched(keywords=keywords, body=previous_body))
        matched = [keyword for keyword in matched if keyword not in already]
    if not matched:
        return None
    with transaction.atomic():
        organization = Organization.objects.get(pk=organization_id)
        post = Post.objects.filter(pk=post_id, organization_id=organization_id).first()
        comment = Comment.objects.filter(pk=comment_id, post=post).first() if comment_id is not None else None
        if post is None or (comment_id is not None and comment is None):
            return None
        target_type, target_id = (TargetType.COMMENT, comment.pk) if comment else (TargetType.POST, post.pk)
        return _add_report(
            organization=organization,
            reporter=None,
            source=ReportSource.KEYWORD,
            target_type=target_type,
            target_id=target_id,
            post=post,
            comment=comment,
            user=None,
            reason=ReportReason.OTHER,
            note=_("Matched keywords: %(keywords)s") % {"keywords": ", ".join(matched)},
            keywords=matched,
        )


def on_content_published(sender, *, organization_id, author_id, post_id, comment_id, body, previous_body=None, **kwargs) -> None:
    # Runs after the content's commit, in the request that wrote it: a failure to flag must
    # not turn a published post into an error for its author.
    try:
        content_flag_keywords(
            organization_id=organization_id,
            author_id=author_id,
            post_id=post_id,
            comment_id=comment_id,
            body=body,
            previous_body=previous_body,
        )
    except Exception:
        logger.exception("Keyword flag failed for post %s comment %s", post_id, comment_id)


def signal_flag_keywords(*, organization_id: int, signal_id: int, text: str, previous_text: str | None = None) -> Report | None:
    """A signal whose words contain a listed keyword joins the queue like a post (its author unnamed)."""
    keywords = selectors.keyword_list(organization_id=organization_id)
    matched = keywords_matched(keywords=keywords, body=text) if keywords else []
    if matched and previous_text:
        already = set(keywords_matched(keywords=keywords, body=previous_text))
        matched = [keyword for keyword in matched if keyword not in already]
    if not matched:
        return None
    with transaction.atomic():
        signal = Signal.objects.filter(pk=signal_id, organization_id=organization_id).first()
        if signal is None:
            return None
        return _add_report(
            organization=Organization.objects.get(pk=organization_id),
            reporter=None,
            source=ReportSource.KEYWORD,
            target_type=TargetType.SIGNAL,
            target_id=signal.pk,
            post=None,
            comment=None,
            user=None,
            reason=ReportReason.OTHER,
            note=_("Matched keywords: %(keywords)s") % {"keywords": ", ".join(matched)},
            keywords=matched,
            signal=signal,
            excerpt=" ".join(text.split())[:200],
        )


def on_signal_text_published(sender, *, organization_id, signal_id, text, previous_text=None, **kwargs) -> None:
    try:
        signal_flag_keywords(organization_id=organization_id, signal_id=signal_id, text=text, previous_text=previous_text)
    except Exception:
        logger.exception("Keyword flag failed for signal %s", signal_id)


def keywords_set(*, actor: User, keywords: list[str]) -> list[str]:
    """Replace the organisation's keyword list (admins only)."""
    selectors.ensure_admin(actor)
    cleaned: dict[str, str] = {}
    for keyword in keywords:
        keyword = " ".join(keyword.split())
        if keyword:
            cleaned.setdefault(keyword.lower(), keyword)
    if len(cleaned) > MAX_KEYWORDS:
        message = _("At most %(max)d keywords.") % {"max": MAX_KEYWORDS}
        raise ValidationFailed(message, fields={"keywords": [message]})
    with transaction.atomic():
        # Serialises concurrent edits of one organisation's list.
        Organization.objects.select_for_update().filter(pk=actor.organization_id).first()
        before = selectors.keyword_list(organization_id=actor.organization_id)
        FlaggedKeyword.objects.filter(organization_id=actor.organization_id).delete()
        FlaggedKeyword.objects.bulk_create(
            [FlaggedKeyword(organization_id=actor.organization_id, keyword=keyword, created_by=actor) for keyword in cleaned.values()]
        )
        after = selectors.keyword_list(organization_id=actor.organization_id)
        if before != after:
            audit_record(
                actor=actor,
                organization_id=actor.organization_id,
                action="moderation.keywords_changed",
                target_type="organization",
                target_id=actor.organization_id,
                before={"keywords": before},
                after={"keywords": after},
            )
        return after

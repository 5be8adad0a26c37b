"""Moderation for seed_demo: a keyword list and one open report, so the queue is not empty.

Goes through the services (one report, one event to the admins). Idempotent: an
organisation that already has keywords or a report is left alone.
"""

from __future__ import annotations

from accounts.demo import DemoContext
from feed import selectors as feed_selectors
from feed.models import PostKind
from moderation import services
from moderation.models import FlaggedKeyword, Report

DEMO_KEYWORDS = ["salaris", "salary", "vertrouwelijk", "confidential"]


def seed(context: DemoContext) -> None:
    organization = context.organization
    if not FlaggedKeyword.objects.filter(organization=organization).exists():
        services.keywords_set(actor=context.admin, keywords=DEMO_KEYWORDS)
    if Report.objects.filter(organization=organization).exists() or len(context.employees) < 2:
        return
    reporter = context.employees[0]
    post = (
        feed_selectors.visible_posts(user=reporter)
        .filter(kind=PostKind.POST)
        .exclude(author=reporter)
        .order_by("-published_at", "-id")
        .first()
    )
    if post is None:
        return
    services.report_create(
        reporter=reporter, target_type="post", target_id=post.pk, reason="spam", note="Posted twice in the same hour (demo report)."
    )

"""Samples of moderation's events for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

from feed import services as feed
from moderation import services as moderation
from moderation.models import Report


def report_created(world) -> None:
    post = feed.post_create(author=world.employee, body="Buy my bike, cheap")
    moderation.report_create(reporter=world.colleague, target_type="post", target_id=post.pk, reason="spam")
    moderation.keywords_set(actor=world.admin, keywords=["kassa"])
    feed.post_create(author=world.employee, body="De kassa is stuk", group_ids=[world.group.pk])  # the keyword filter


def _reported_and_hidden(world) -> None:
    post = feed.post_create(author=world.employee, body="Buy my bike, cheap")
    report = moderation.report_create(reporter=world.colleague, target_type="post", target_id=post.pk, reason="spam")
    moderation.case_resolve(actor=world.admin, case_id=Report.objects.get(pk=report.pk).case_id, action="hide", note="Not here")


def report_resolved(world) -> None:
    _reported_and_hidden(world)


def moderation_decided(world) -> None:
    _reported_and_hidden(world)
    moderation.user_mute(actor=world.admin, user_id=world.employee.pk, days=2, note="Cool down")
    moderation.user_unmute(actor=world.admin, user_id=world.employee.pk)


SAMPLES = {"report.created": report_created, "report.resolved": report_resolved, "moderation.decided": moderation_decided}

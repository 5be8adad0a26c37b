"""Samples of recognition's events for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from recognition import services as recognition
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, CompanyValueFactory, NominationFactory


def kudos_created(world) -> None:
    value = CompanyValueFactory(organization=world.org, name="Service with a smile")
    recognition.kudos_give(giver=world.employee, recipient_ids=[world.colleague.pk], message="Thanks for covering!", value_id=value.pk)


def award_announced(world) -> None:
    category = AwardCategoryFactory(organization=world.org, name="Colleague of the month")
    march = AwardRoundFactory(category=category, month=date(2026, 3, 1))
    for nominator in (world.employee, world.leader):
        NominationFactory(round=march, nominator=nominator, nominee=world.colleague, reason="Always helps customers.")
    NominationFactory(round=march, nominator=world.colleague, nominee=world.employee, reason="Fixed the tills.")
    # The winner's announcement, and the other nominee's own event.
    recognition.award_round_close(round_id=march.pk, now=datetime(2026, 4, 1, 6, tzinfo=UTC))


SAMPLES = {"kudos.created": kudos_created, "award.announced": award_announced}

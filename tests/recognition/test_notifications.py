"""End to end through the real event path (outbox → inbox): who finds what in their in-app inbox."""

import datetime as dt

from notifications.models import Notification
from recognition.services import award_rounds_close_due, kudos_give
from tests.factories import AdminFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, NominationFactory


def test_kudos_lands_in_each_recipients_inbox(org, employee, django_capture_on_commit_callbacks):
    a, b = UserFactory.create_batch(2, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        kudos_give(giver=employee, recipient_ids=[a.pk, b.pk], message="Dank je!")
    inbox = Notification.objects.filter(type="kudos.created")
    assert sorted(inbox.values_list("recipient_id", "reason")) == sorted([(a.pk, "kudos"), (b.pk, "kudos")])


def test_announcement_notifies_winner_audience_and_privately_the_other_nominees(db, django_capture_on_commit_callbacks):
    org = OrganizationFactory(timezone="Europe/Amsterdam")
    AdminFactory(organization=org)
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org, confidential=True), month=dt.date(2026, 3, 1))
    winner, runner_up = UserFactory.create_batch(2, organization=org)
    for _ in range(2):
        NominationFactory(round=round, nominee=winner)
    nominator = NominationFactory(round=round, nominee=runner_up).nominator
    with django_capture_on_commit_callbacks(execute=True):
        award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=dt.UTC))
    assert Notification.objects.get(recipient=winner, reason="award").data["winners"][0]["id"] == winner.pk
    private = Notification.objects.get(recipient=runner_up, reason="nomination")
    assert private.data["nomination_count"] == 1
    assert nominator.name not in str(private.data)
    # Everyone in the audience hears who won; the runner-up's count reaches nobody else.
    assert Notification.objects.filter(reason="award").count() == org.users.filter(is_active=True).count()
    assert Notification.objects.filter(reason="nomination").count() == 1

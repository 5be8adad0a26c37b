"""Moderation pushes: texts in Dutch and English, no preference switch, deep links."""

import pytest

from moderation.events import MODERATION_PUSH, REPORT_CREATED
from notifications.push_texts import data_payload, render


@pytest.mark.parametrize(
    ("event_type", "payload", "english", "dutch"),
    [
        (
            "report.created",
            {"report_id": 4, "reason": "harassment", "excerpt": "Rude words"},
            ("New report: harassment", "Rude words"),
            ("Nieuwe melding: intimidatie", "Rude words"),
        ),
        (
            "report.created",
            {"report_id": 4, "reason": "other", "source": "keyword", "excerpt": "x"},
            ("Flagged for review: matched keywords", "x"),
            ("Ter beoordeling: trefwoorden gevonden", "x"),
        ),
        (
            "moderation.decided",
            {"action": "hide", "target_type": "post", "note": "Keep it friendly"},
            ("Your post was hidden by a moderator", "Keep it friendly"),
            ("Je bericht is verborgen door een moderator", "Keep it friendly"),
        ),
        (
            "moderation.decided",
            {"action": "remove", "target_type": "comment", "note": ""},
            ("Your comment was removed by a moderator", ""),
            ("Je reactie is verwijderd door een moderator", ""),
        ),
        (
            "report.resolved",
            {"action": "dismiss"},
            ("Your report was reviewed", "No action was needed."),
            ("Je melding is bekeken", "Er was geen actie nodig."),
        ),
        (
            "report.resolved",
            {"action": "remove"},
            ("Your report was reviewed", "Action was taken. Thank you for reporting."),
            ("Je melding is bekeken", "Er is actie ondernomen. Bedankt voor je melding."),
        ),
    ],
)
def test_moderation_texts_in_both_languages(event_type, payload, english, dutch):
    for language, expected in (("en", english), ("nl", dutch)):
        text = render(push=MODERATION_PUSH, event_type=event_type, payload=payload, personal=True, must_read=False, language=language)
        assert (text.title, text.body) == expected


def test_moderator_push_links_to_the_queue_row():
    data = data_payload(
        event_id="e", event_type=REPORT_CREATED, push=MODERATION_PUSH, payload={"report_id": 7, "post_id": 3}, must_read=False
    )
    assert data["link"] == "moderation/reports/7" and data["report_id"] == "7"


def test_moderation_push_reaches_the_phone_without_a_preference_switch(
    api, org, employee, leader, admin_user, django_capture_on_commit_callbacks
):
    from notifications.models import PushDelivery, PushStatus
    from tests.feed.factories import PostFactory
    from tests.moderation.conftest import report
    from tests.notifications.push_factories import DeviceFactory

    DeviceFactory(user=admin_user)
    post = PostFactory(author=leader)
    with django_capture_on_commit_callbacks(execute=True):
        assert report(api(employee), "post", post.pk, reason="spam").status_code == 201
    [delivery] = PushDelivery.objects.filter(device__user=admin_user)
    assert delivery.status == PushStatus.SENT

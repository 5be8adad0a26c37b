"""Texts, deep links, collapse keys, quiet hours and backoff: the pure parts of push."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from feed.events import COMMENT_PUSH, GOAL_PUSH, KEY_MOMENT_PUSH, MENTION_PUSH, POST_PUSH
from notifications import catalogue, push
from notifications.catalogue import collapse_key, deep_link
from notifications.push_texts import data_payload, excerpt, render
from recognition.events import AWARD_PUSH, KUDOS_CREATED, KUDOS_PUSH, NOMINATION_PUSH


@pytest.mark.parametrize(
    "declared, payload, personal, en, nl",
    [
        (
            KUDOS_PUSH,
            {"giver": {"name": "Sam"}, "message": "Thanks!"},
            True,
            ("Sam gave you kudos", "Thanks!"),
            ("Sam gaf je een compliment", "Thanks!"),
        ),
        (
            AWARD_PUSH,
            {"award": {"name": "Customer hero"}},
            True,
            ("You won Customer hero!", "Congratulations!"),
            ("Je hebt Customer hero gewonnen!", "Gefeliciteerd!"),
        ),
        (
            AWARD_PUSH,
            {"award": {"name": "Customer hero"}, "winner": {"name": "Kim"}},
            False,
            ("Kim won Customer hero", ""),
            ("Kim heeft Customer hero gewonnen", ""),
        ),
        (
            COMMENT_PUSH,
            {"author": {"name": "Jo"}, "excerpt": "Nice"},
            True,
            ("Jo commented on your post", "Nice"),
            ("Jo reageerde op je bericht", "Nice"),
        ),
        (
            GOAL_PUSH,
            {"goal": {"title": "NPS 60"}, "note": "At 55"},
            False,
            ("Goal update: NPS 60", "At 55"),
            ("Doel bijgewerkt: NPS 60", "At 55"),
        ),
        (POST_PUSH, {}, False, ("New post by A colleague", ""), ("Nieuw bericht van Een collega", "")),
    ],
)
def test_render_in_english_and_dutch(declared, payload, personal, en, nl):
    for language, expected in (("en", en), ("nl", nl)):
        text = render(push=declared, event_type="any.event", payload=payload, personal=personal, must_read=False, language=language)
        assert (text.title, text.body) == expected


def test_unknown_language_falls_back_to_english():
    text = render(push=MENTION_PUSH, event_type="post.created", payload={"actor_name": "Jo"}, personal=True, must_read=False, language="de")
    assert text.title == "Jo mentioned you"


def test_excerpt_is_short_and_single_line():
    text = excerpt({"body": "line one\n\n" + "word " * 100})
    assert "\n" not in text
    assert len(text) <= 120
    assert text.endswith("…")


def test_ten_comments_on_one_post_share_a_collapse_key():
    keys = {collapse_key(COMMENT_PUSH, {"post_id": 5}, event_id=f"e{i}") for i in range(10)}
    assert keys == {"comments-5"}
    assert collapse_key(KUDOS_PUSH, {"kudos_id": 1}, event_id="e1") == "event-e1"


def test_deep_links_and_data_are_strings_with_ids():
    data = data_payload(
        event_id="e", event_type=KUDOS_CREATED, push=KUDOS_PUSH, payload={"kudos": {"id": 12}, "post_id": 3}, must_read=False
    )
    assert data == {
        "event_id": "e",
        "event_type": "kudos.created",
        "push_type": "kudos",
        "link": "kudos/12",
        "post_id": "3",
        "kudos_id": "12",
    }
    assert deep_link(NOMINATION_PUSH, {"round_id": 4}) == "awards/rounds/4"
    assert deep_link(KEY_MOMENT_PUSH, {}) == "notifications"


def test_every_declared_push_has_a_channel_and_a_known_switch():
    pushes = {declared for event_type in catalogue.event_types() for declared in event_type.pushes()}
    assert pushes, "no event type pushes"
    for declared in pushes:
        assert declared.channel
        assert declared.preference is None or declared.preference in catalogue.preference_switches()


@pytest.mark.parametrize(
    "start, end, local, quiet",
    [
        (time(22), time(7), time(23, 30), True),
        (time(22), time(7), time(6, 59), True),
        (time(22), time(7), time(7), False),
        (time(22), time(7), time(12), False),
        (time(13), time(14), time(13, 30), True),
        (time(13), time(14), time(14, 1), False),
        (None, None, time(3), False),
    ],
)
def test_quiet_hours_window(start, end, local, quiet):
    at = datetime(2026, 1, 15, local.hour, local.minute, tzinfo=UTC)
    assert push.in_quiet_hours(start=start, end=end, tz_name="UTC", at=at) is quiet


def test_quiet_hours_follow_daylight_saving():
    # 06:30 UTC is 07:30 in Amsterdam in winter (CET) but 08:30 in summer (CEST).
    winter = datetime(2026, 1, 15, 6, 30, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 5, 30, tzinfo=UTC)
    assert push.in_quiet_hours(start=time(22), end=time(7, 45), tz_name="Europe/Amsterdam", at=winter)
    assert push.in_quiet_hours(start=time(22), end=time(7, 45), tz_name="Europe/Amsterdam", at=summer)
    assert not push.in_quiet_hours(start=time(22), end=time(7), tz_name="Europe/Amsterdam", at=winter)


def test_backoff_grows_with_jitter_and_honours_retry_after():
    for attempt in range(1, 12):
        ceiling = min(push.BACKOFF_CAP_SECONDS, push.BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
        delays = {push.backoff_seconds(attempt=attempt) for _ in range(20)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jitter: a burst of retries does not come back at once
    assert push.backoff_seconds(attempt=1, retry_after=120) == 120

"""Texts, deep links, collapse keys, quiet hours and backoff: the pure parts of push."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from notifications import push
from notifications.push_texts import CHANNEL, PushType, collapse_key, data_payload, deep_link, excerpt, render

LOCALE = Path(__file__).resolve().parents[2] / "notifications" / "locale"


@pytest.mark.parametrize(
    "push_type, payload, personal, en, nl",
    [
        (
            PushType.KUDOS,
            {"giver": {"name": "Sam"}, "message": "Thanks!"},
            True,
            ("Sam gave you kudos", "Thanks!"),
            ("Sam gaf je een compliment", "Thanks!"),
        ),
        (
            PushType.AWARD,
            {"award": {"name": "Customer hero"}},
            True,
            ("You won Customer hero!", "Congratulations!"),
            ("Je hebt Customer hero gewonnen!", "Gefeliciteerd!"),
        ),
        (
            PushType.AWARD,
            {"award": {"name": "Customer hero"}, "winner": {"name": "Kim"}},
            False,
            ("Kim won Customer hero", ""),
            ("Kim heeft Customer hero gewonnen", ""),
        ),
        (
            PushType.REACTION,
            {"actor": {"name": "Jo"}},
            True,
            ("New reactions to your post", "Jo reacted to your post"),
            ("Nieuwe reacties op je bericht", "Jo reageerde op je bericht"),
        ),
        (
            PushType.COMMENT,
            {"author": {"name": "Jo"}, "excerpt": "Nice"},
            True,
            ("Jo commented on your post", "Nice"),
            ("Jo reageerde op je bericht", "Nice"),
        ),
        (
            PushType.GOAL,
            {"goal": {"title": "NPS 60"}, "note": "At 55"},
            False,
            ("Goal update: NPS 60", "At 55"),
            ("Doel bijgewerkt: NPS 60", "At 55"),
        ),
        (PushType.POST, {}, False, ("New post by A colleague", ""), ("Nieuw bericht van Een collega", "")),
    ],
)
def test_render_in_english_and_dutch(push_type, payload, personal, en, nl):
    for language, expected in (("en", en), ("nl", nl)):
        text = render(push_type=push_type, payload=payload, requires_ack=False, personal=personal, language=language)
        assert (text.title, text.body) == expected


def test_unknown_language_falls_back_to_english():
    text = render(push_type=PushType.MENTION, payload={"actor_name": "Jo"}, requires_ack=False, personal=True, language="de")
    assert text.title == "Jo mentioned you"


def test_excerpt_is_short_and_single_line():
    text = excerpt({"body": "line one\n\n" + "word " * 100})
    assert "\n" not in text
    assert len(text) <= 120
    assert text.endswith("…")


def test_ten_reactions_to_one_post_share_a_collapse_key():
    keys = {collapse_key(push_type=PushType.REACTION, payload={"post_id": 5}, event_id=f"e{i}") for i in range(10)}
    assert keys == {"reactions-5"}
    assert collapse_key(push_type=PushType.KUDOS, payload={"kudos_id": 1}, event_id="e1") == "event-e1"


def test_deep_links_and_data_are_strings_with_ids():
    data = data_payload(
        event_id="e", event_type="kudos.created", push_type=PushType.KUDOS, payload={"kudos": {"id": 12}, "post_id": 3}, requires_ack=False
    )
    assert data == {
        "event_id": "e",
        "event_type": "kudos.created",
        "push_type": "kudos",
        "link": "kudos/12",
        "post_id": "3",
        "kudos_id": "12",
    }
    assert deep_link(push_type=PushType.NOMINATION, payload={"round_id": 4}) == "awards/rounds/4"
    assert deep_link(push_type=PushType.KEY_MOMENT, payload={}) == "notifications"


def test_every_push_type_has_a_channel():
    assert set(CHANNEL) == set(PushType)


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


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt not installed")
@pytest.mark.parametrize("language", ["nl", "en"])
def test_committed_mo_files_match_their_po(language, tmp_path):
    # The .mo files are committed so a checkout works without compilemessages; they must not go stale.
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(po)], check=True)
    assert compiled.read_bytes() == (LOCALE / language / "LC_MESSAGES" / "django.mo").read_bytes()


def test_every_dutch_push_text_is_translated():
    po = (LOCALE / "nl" / "LC_MESSAGES" / "django.po").read_text()
    entries = po.split("\n\n")[1:]
    untranslated = [entry for entry in entries if entry.rstrip().endswith('msgstr ""')]
    assert untranslated == []

"""Signals and their timeline entries are reported, hidden and restored like posts; an anonymous
author stays hidden from moderators too (the queue row shows the content only)."""

from __future__ import annotations

from tests.voice.test_signals_visibility import _person_refs
from voice.services import signals as voice
from voice.services import signals_workflow


def _anonymous_signal(store):
    signal = voice.signal_create(
        author=store["staff"], kind="friction", title="Rude manager", body="Shouts at us", group_id=store["group"].pk, anonymous=True
    )
    signals_workflow.signal_set_status(actor=store["manager"], signal=signal, status="acknowledged", message="Looking into it")
    return signal


def test_report_hide_and_restore_a_signal_without_naming_its_author(api, store, admin_user, django_capture_on_commit_callbacks):
    signal = _anonymous_signal(store)
    with django_capture_on_commit_callbacks(execute=True):
        report = api(store["colleague"]).post(
            "/api/v1/reports", {"target_type": "signal", "target_id": signal.pk, "reason": "harassment"}, format="json"
        )
    assert report.status_code == 201, report.content
    admin = api(admin_user)
    queue = admin.get("/api/v1/moderation/reports")
    [case] = queue.json()["results"]
    assert case["target"]["type"] == "signal" and case["target"]["signal_id"] == signal.pk
    assert case["target"]["author"] is None and "Rude manager" in case["target"]["body"]
    detail = admin.get(f"/api/v1/moderation/reports/{case['id']}")
    for body in (queue, detail, admin.get("/api/v1/notifications")):
        assert _person_refs(body.json(), store["staff"].pk) == [] and "Sam Staff" not in body.content.decode()
    resolved = admin.post(f"/api/v1/moderation/reports/{case['id']}/resolve", {"action": "hide", "note": "Personal attack"}, format="json")
    assert resolved.status_code == 200, resolved.content
    assert api(store["colleague"]).get(f"/api/v1/signals/{signal.pk}").status_code == 404
    assert admin.get(f"/api/v1/signals/{signal.pk}").status_code == 200
    restored = admin.post(f"/api/v1/moderation/signals/{signal.pk}/restore", {"note": "On reflection fine"}, format="json")
    assert restored.status_code == 200 and restored.json() == {"target_type": "signal", "id": signal.pk, "hidden": False}
    assert api(store["colleague"]).get(f"/api/v1/signals/{signal.pk}").status_code == 200
    assert api(store["manager"]).post(f"/api/v1/moderation/signals/{signal.pk}/restore", {"note": ""}, format="json").status_code == 403


def test_a_timeline_entry_is_reported_and_hidden(api, store, admin_user):
    signal = _anonymous_signal(store)
    entry_id = api(store["colleague"]).get(f"/api/v1/signals/{signal.pk}").json()["timeline"][0]["id"]
    report = api(store["colleague"]).post(
        "/api/v1/reports", {"target_type": "signal_entry", "target_id": entry_id, "reason": "inappropriate"}, format="json"
    )
    assert report.status_code == 201, report.content
    [case] = api(admin_user).get("/api/v1/moderation/reports").json()["results"]
    assert case["target"]["body"] == "Looking into it" and case["target"]["author"] is None
    api(admin_user).post(f"/api/v1/moderation/reports/{case['id']}/resolve", {"action": "remove", "note": "x"}, format="json")
    assert api(store["colleague"]).get(f"/api/v1/signals/{signal.pk}").json()["timeline"] == []


def test_own_foreign_and_unknown_signals_cannot_be_reported(api, store, other_org):
    signal = _anonymous_signal(store)
    own = api(store["staff"]).post("/api/v1/reports", {"target_type": "signal", "target_id": signal.pk, "reason": "spam"}, format="json")
    assert own.status_code == 400 and own.json()["error"]["code"] == "cannot_report_self"
    from tests.factories import UserFactory

    outsider = UserFactory(organization=other_org)
    foreign = api(outsider).post("/api/v1/reports", {"target_type": "signal", "target_id": signal.pk, "reason": "spam"}, format="json")
    assert foreign.status_code == 400 and "target_id" in foreign.json()["error"]["fields"]


def test_a_listed_keyword_queues_a_signal_like_a_post(api, store, admin_user, django_capture_on_commit_callbacks):
    from moderation import services as moderation_services

    moderation_services.keywords_set(actor=admin_user, keywords=["idiot"])
    with django_capture_on_commit_callbacks(execute=True):
        flagged = voice.signal_create(author=store["staff"], kind="friction", title="The idiot rota", body="b", anonymous=True)
        voice.signal_create(author=store["staff"], kind="idea", title="Fresh coffee", body="b")
    [case] = api(admin_user).get("/api/v1/moderation/reports").json()["results"]
    assert case["target"]["signal_id"] == flagged.pk and case["flagged_keywords"] == ["idiot"]
    assert case["target"]["author"] is None


def test_erasure_by_the_remove_rule_empties_their_signals_and_withdraws_their_support(api, org, store, admin_user):
    from moderation.erasure import erasure_now
    from voice.models import Signal

    org.erasure_keeps_content = False
    org.save()
    own = _anonymous_signal(store)
    other = voice.signal_create(author=store["colleague"], kind="idea", title="Music", body="Softer", group_id=store["group"].pk)
    voice.signal_support(user=store["staff"], signal=other, group_id=store["group"].pk)
    erasure_now(actor=admin_user, user=store["staff"])
    own.refresh_from_db()
    assert (own.title, own.body, own.hidden_at is not None) == ("", "", True)
    assert api(store["colleague"]).get(f"/api/v1/signals/{own.pk}").status_code == 404
    assert Signal.objects.get(pk=other.pk).support_count == 0

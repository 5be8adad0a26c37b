"""Signals through the API as a phone uses them: raise, list, support, answer, merge, announce."""

from __future__ import annotations

import json
import uuid

import pytest

from feed.models import Post
from feed.services import goals
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.voice.conftest import outbox
from voice.models import Signal, SignalSupport

LONG = "We now let the desk decide late check-out until 13:00."


def _raise(api, user, **fields):
    body = {"kind": "friction", "title": "Guests ask for late check-out", "body": "We may not decide it ourselves.", **fields}
    response = api(user).post("/api/v1/signals", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_raise_returns_the_card_and_goes_to_the_group_manager(api, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        card = _raise(api, store["staff"], group_id=store["group"].pk)
    assert card["author"]["id"] == store["staff"].pk
    assert card["mine"] is True
    assert card["owner"]["id"] == store["manager"].pk
    assert (card["status"], card["support_count"], card["group_count"]) == ("open", 0, 1)
    assert card["timeline"] == [] and card["images"] == []
    [event] = outbox("signal.created")
    assert event.user_ids == [store["manager"].pk]
    assert event.addressed == [{"user_id": store["manager"].pk, "reason": "signal_new"}]


def test_unowned_signal_goes_to_the_admins(api, org, employee, admin_user):
    card = _raise(api, employee)
    assert card["owner"] is None
    [event] = outbox("signal.created")
    assert event.user_ids == [admin_user.pk]
    listed = api(admin_user).get("/api/v1/signals", {"unassigned": "true"}).json()["results"]
    assert [row["id"] for row in listed] == [card["id"]]


def test_title_body_and_ids_are_checked(api, org, employee, other_org):
    client = api(employee)
    too_long = client.post("/api/v1/signals", {"kind": "idea", "title": "x" * 121, "body": "b"}, format="json")
    assert too_long.status_code == 400 and "title" in too_long.json()["error"]["fields"]
    foreign_group = GroupFactory(organization=other_org)
    not_mine = GroupFactory(organization=org)
    for field, value in (("group_id", foreign_group.pk), ("group_id", not_mine.pk), ("key_moment_id", 999999), ("image_ids", [999999])):
        response = client.post("/api/v1/signals", {"kind": "idea", "title": "t", "body": "b", field: value}, format="json")
        assert response.status_code == 400 and field in response.json()["error"]["fields"], (field, response.content)


def test_muted_author_is_refused(api, employee):
    from datetime import timedelta

    from django.utils import timezone

    employee.muted_until = timezone.now() + timedelta(days=1)
    employee.save()
    response = api(employee).post("/api/v1/signals", {"kind": "idea", "title": "t", "body": "b"}, format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "muted"


def test_author_edits_and_deletes_only_while_open(api, store):
    card = _raise(api, store["staff"], group_id=store["group"].pk)
    path = f"/api/v1/signals/{card['id']}"
    assert api(store["colleague"]).patch(path, {"title": "Mine now"}, format="json").status_code == 403
    edited = api(store["staff"]).patch(path, {"title": "Late check-out", "key_moment_id": None}, format="json")
    assert edited.status_code == 200 and edited.json()["title"] == "Late check-out"
    assert api(store["manager"]).post(f"{path}/status", {"status": "acknowledged"}, format="json").status_code == 200
    assert api(store["staff"]).patch(path, {"title": "Again"}, format="json").status_code == 409
    assert api(store["staff"]).delete(path).status_code == 409
    other = _raise(api, store["staff"])
    assert api(store["staff"]).delete(f"/api/v1/signals/{other['id']}").status_code == 204
    assert api(store["staff"]).get(f"/api/v1/signals/{other['id']}").status_code == 404


# --- Support --------------------------------------------------------------------------------


def test_support_is_idempotent_counts_locations_and_can_be_withdrawn(api, org, store, django_capture_on_commit_callbacks):
    card = _raise(api, store["staff"], group_id=store["group"].pk)
    path = f"/api/v1/signals/{card['id']}/support"
    elsewhere = GroupFactory(organization=org, kind="location")
    supporter = MembershipFactory(group=elsewhere).user
    with django_capture_on_commit_callbacks(execute=True):
        first = api(supporter).put(path, {"group_id": elsewhere.pk, "note": "Same in Amsterdam"}, format="json")
        again = api(supporter).put(path, {"group_id": elsewhere.pk, "note": "Same in Amsterdam"}, format="json")
        api(store["colleague"]).put(path, {}, format="json")
    assert first.status_code == again.status_code == 200
    assert again.json()["supported_by_me"] is True and again.json()["my_support"] == {"group_id": elsewhere.pk, "note": "Same in Amsterdam"}
    signal = Signal.objects.get(pk=card["id"])
    assert (signal.support_count, signal.group_count) == (2, 2)
    # The owner's frame each time the counts move, the push at most once an hour per signal.
    events = outbox("signal.supported")
    assert len(events) == 2 and [bool(e.addressed) for e in events] == [True, False]
    assert api(supporter).delete(path).status_code == 204
    assert api(supporter).delete(path).status_code == 204
    signal.refresh_from_db()
    assert (signal.support_count, signal.group_count) == (1, 1)
    own = api(store["staff"]).put(path, {}, format="json")
    assert own.status_code == 409 and own.json()["error"]["code"] == "own_signal"
    foreign = api(supporter).put(path, {"group_id": store["group"].pk}, format="json")
    assert foreign.status_code == 400 and "group_id" in foreign.json()["error"]["fields"]


# --- Status, assignment, merge ------------------------------------------------------------------


def test_status_moves_forward_only_with_messages(api, store, django_capture_on_commit_callbacks):
    card = _raise(api, store["staff"], group_id=store["group"].pk)
    api(store["colleague"]).put(f"/api/v1/signals/{card['id']}/support", {}, format="json")
    path = f"/api/v1/signals/{card['id']}/status"
    manager = api(store["manager"])
    assert api(store["colleague"]).post(path, {"status": "acknowledged"}, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        progressed = manager.post(path, {"status": "in_progress", "message": "Asking the front office"}, format="json")
    assert progressed.status_code == 200
    body = progressed.json()
    assert body["status"] == "in_progress" and body["first_response_at"] is not None
    assert [(e["kind"], e["status"], e["message"]) for e in body["timeline"]] == [("status", "in_progress", "Asking the front office")]
    back = manager.post(path, {"status": "acknowledged"}, format="json")
    assert back.status_code == 409 and back.json()["error"]["code"] == "invalid_transition"
    short = manager.post(path, {"status": "resolved", "message": "Done."}, format="json")
    assert short.status_code == 400 and "message" in short.json()["error"]["fields"]
    resolved = manager.post(path, {"status": "resolved", "message": LONG}, format="json").json()
    assert resolved["resolved_at"] is not None
    assert manager.post(path, {"status": "declined", "message": LONG}, format="json").json()["error"]["code"] == "invalid_transition"
    # The author and every supporter are told, the one who acted is not.
    [event, *_] = outbox("signal.status_changed")
    assert event.user_ids == sorted([store["staff"].pk, store["colleague"].pk])
    assert {entry["reason"] for entry in event.addressed} == {"signal_update"}
    assert event.payload["message"] == "Asking the front office"
    # Kudos for the fix: the resolved card names whom to thank.
    thanks = api(store["staff"]).get(f"/api/v1/signals/{card['id']}").json()["thanks_to"]
    assert thanks["id"] == store["manager"].pk


def test_open_may_jump_to_resolved(api, store, admin_user):
    card = _raise(api, store["staff"])
    response = api(admin_user).post(f"/api/v1/signals/{card['id']}/status", {"status": "resolved", "message": LONG}, format="json")
    assert response.status_code == 200 and response.json()["first_response_at"] == response.json()["resolved_at"]


def test_assign_to_a_leader_only(api, org, store, admin_user, other_org):
    card = _raise(api, store["staff"])
    path = f"/api/v1/signals/{card['id']}/assign"
    leader = LeaderFactory(organization=org)
    assert api(store["colleague"]).post(path, {"owner_id": leader.pk}, format="json").status_code == 403
    for bad in (store["colleague"].pk, LeaderFactory(organization=other_org).pk):
        response = api(admin_user).post(path, {"owner_id": bad}, format="json")
        assert response.status_code == 400 and "owner_id" in response.json()["error"]["fields"]
    assigned = api(admin_user).post(path, {"owner_id": leader.pk}, format="json").json()
    assert assigned["owner"]["id"] == leader.pk and assigned["timeline"][0]["kind"] == "assigned"
    assert [row["id"] for row in api(leader).get("/api/v1/signals", {"assigned_to_me": "true"}).json()["results"]] == [card["id"]]


def test_merge_carries_supporters_once_and_the_author(api, org, store, admin_user, other_org):
    target = _raise(api, store["colleague"], title="Late check-out again")
    source = _raise(api, store["staff"])
    both = UserFactory(organization=org)
    for user in (both, store["manager"]):
        api(user).put(f"/api/v1/signals/{source['id']}/support", {}, format="json")
    api(both).put(f"/api/v1/signals/{target['id']}/support", {}, format="json")
    path = f"/api/v1/signals/{source['id']}/merge"
    assert api(store["colleague"]).post(path, {"into_id": target["id"]}, format="json").status_code == 403
    foreign = Signal.objects.create(organization=other_org, author=UserFactory(organization=other_org), kind="idea", title="t", body="b")
    for bad in (foreign.pk, source["id"]):
        response = api(admin_user).post(path, {"into_id": bad}, format="json")
        assert response.status_code == 400 and "into_id" in response.json()["error"]["fields"]
    merged = api(admin_user).post(path, {"into_id": target["id"]}, format="json").json()
    assert merged["status"] == "merged" and merged["merged_into"] == target["id"]
    supporters = sorted(SignalSupport.objects.filter(signal_id=target["id"]).values_list("user_id", flat=True))
    assert supporters == sorted([both.pk, store["manager"].pk, store["staff"].pk])
    assert Signal.objects.get(pk=target["id"]).support_count == 3
    again = api(admin_user).post(path, {"into_id": target["id"]}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


# --- "You said, we did" -----------------------------------------------------------------------------


def test_announced_resolution_is_one_post_even_when_retried(api, store, django_capture_on_commit_callbacks):
    card = _raise(api, store["staff"], group_id=store["group"].pk)
    api(store["colleague"]).put(f"/api/v1/signals/{card['id']}/support", {}, format="json")
    client = api(store["manager"])
    key = str(uuid.uuid4())
    body = {"status": "resolved", "message": LONG, "announce": True}
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/api/v1/signals/{card['id']}/status", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        retry = client.post(f"/api/v1/signals/{card['id']}/status", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == retry.status_code == 200
    assert json.loads(first.content) == json.loads(retry.content)
    [post] = Post.objects.filter(kind="you_said_we_did")
    assert first.json()["announcement_post_id"] == post.pk
    assert not post.org_wide and list(post.groups.values_list("pk", flat=True)) == [store["group"].pk]
    feed = api(store["colleague"]).get("/api/v1/feed").json()["results"]
    [you_said] = [row for row in feed if row["kind"] == "you_said_we_did"]
    assert you_said["signal"] == {
        "id": card["id"],
        "kind": "friction",
        "title": card["title"],
        "message": LONG,
        "support_count": 1,
        "group_count": 1,
        "key_moment": None,
    }
    assert outbox("signal.status_changed")[-1].payload["post_id"] == post.pk


def test_announce_only_with_a_resolution(api, store):
    card = _raise(api, store["staff"], group_id=store["group"].pk)
    response = api(store["manager"]).post(
        f"/api/v1/signals/{card['id']}/status", {"status": "declined", "message": LONG, "announce": True}, format="json"
    )
    assert response.status_code == 400 and "announce" in response.json()["error"]["fields"]


# --- Lists ------------------------------------------------------------------------------------------


def test_filters_and_both_sorts_page_without_gaps(api, org, store, leader):
    key_moment = goals.key_moment_create(actor=leader, title="Check-out", description="d", expected_behaviour="e")
    ids = [_raise(api, store["staff"], title=f"Signal {n}", key_moment_id=key_moment.pk if n % 2 else None)["id"] for n in range(7)]
    for n, signal_id in enumerate(ids):
        Signal.objects.filter(pk=signal_id).update(support_count=n % 3)
    client = api(store["colleague"])
    by_support = sorted(ids, key=lambda i: (ids.index(i) % 3, i), reverse=True)
    for sort, expected in (("recent", ids[::-1]), ("support", by_support)):
        seen, params = [], {"sort": sort, "page_size": 3}
        while True:
            page = client.get("/api/v1/signals", params).json()
            seen += [row["id"] for row in page["results"]]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        assert seen == expected, sort
    moment = client.get("/api/v1/signals", {"key_moment": key_moment.pk}).json()["results"]
    assert sorted(row["id"] for row in moment) == sorted(ids[1::2])
    assert client.get("/api/v1/signals", {"mine": "true"}).json()["results"] == []
    assert len(api(store["staff"]).get("/api/v1/signals", {"mine": "true", "page_size": 100}).json()["results"]) == 7
    bad = client.get("/api/v1/signals", {"sort": "loudest"})
    assert bad.status_code == 400


@pytest.mark.parametrize("sort", ["recent", "support"])
@pytest.mark.parametrize("size", [1, 8])
def test_list_query_count_is_independent_of_page_size(api, org, store, sort, size, django_assert_num_queries):
    key_moment = goals.key_moment_create(actor=store["manager"], title="Arrival", description="d", expected_behaviour="e")
    for n in range(size):
        card = _raise(api, store["staff"], group_id=store["group"].pk, key_moment_id=key_moment.pk, anonymous=bool(n % 2))
        api(store["colleague"]).put(f"/api/v1/signals/{card['id']}/support", {"group_id": store["group"].pk}, format="json")
        api(store["manager"]).post(f"/api/v1/signals/{card['id']}/status", {"status": "acknowledged", "message": "Seen"}, format="json")
    client = api(store["colleague"])
    # Auth (token + user), the page of signals (people, group, key moment), its photos, timelines, my supports.
    with django_assert_num_queries(6):
        response = client.get("/api/v1/signals", {"sort": sort, "page_size": 100})
    assert len(response.json()["results"]) == size


def test_insights_for_leaders_of_their_groups_and_admins(api, org, store, admin_user, django_assert_num_queries):
    other = GroupFactory(organization=org)
    other_leader = MembershipFactory(group=other, role="manager", user=LeaderFactory(organization=org)).user
    mine = _raise(api, store["staff"], group_id=store["group"].pk)
    _raise(api, store["staff"], group_id=store["group"].pk, title="Second")
    elsewhere = MembershipFactory(group=other).user
    _raise(api, elsewhere, group_id=other.pk, title="Elsewhere")
    api(store["colleague"]).put(f"/api/v1/signals/{mine['id']}/support", {}, format="json")
    api(store["manager"]).post(f"/api/v1/signals/{mine['id']}/status", {"status": "resolved", "message": LONG}, format="json")
    assert api(store["staff"]).get("/api/v1/signals/insights").status_code == 403
    client = api(store["manager"])
    with django_assert_num_queries(7):
        body = client.get("/api/v1/signals/insights").json()
    assert body["total"] == 2 and body["promise_hours"] == 72
    assert body["by_group"] == [{"id": store["group"].pk, "name": store["group"].name, "open": 1, "resolved": 1, "support": 1}]
    assert [row["title"] for row in body["oldest_unanswered"]] == ["Second"]
    assert body["median_hours_to_first_response"] == 0.0 and body["share_answered_within_promise"] == 1.0
    assert client.get("/api/v1/signals/insights", {"group": other.pk}).status_code == 400
    assert api(other_leader).get("/api/v1/signals/insights").json()["total"] == 1
    assert api(admin_user).get("/api/v1/signals/insights").json()["total"] == 3
    assert api(admin_user).get("/api/v1/signals/insights", {"since": "2099-01-01"}).json()["total"] == 0


def test_admin_of_another_organisation_sees_nothing(api, store, other_org):
    card = _raise(api, store["staff"])
    outsider = AdminFactory(organization=other_org)
    assert api(outsider).get(f"/api/v1/signals/{card['id']}").status_code == 404
    assert api(outsider).get("/api/v1/signals").json()["results"] == []
    assert api(outsider).get("/api/v1/signals/insights").json()["total"] == 0

"""Invitations an admin can follow up: list by status, resend, revoke (issue #22)."""

from __future__ import annotations

from datetime import timedelta

from django.core import mail
from django.utils import timezone

from accounts.models import Invitation
from tests.factories import AdminFactory

NEW = "a brand new passphrase 2026"


def _invite(client, email: str, **extra) -> dict:
    response = client.post("/api/v1/invitations", {"email": email, "name": email.split("@")[0], **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _statuses(client, status: str = "") -> list[tuple[str, str]]:
    params = {"status": status} if status else {}
    response = client.get("/api/v1/invitations", params)
    assert response.status_code == 200, response.content
    return [(row["email"], row["status"]) for row in response.json()["results"]]


def test_the_list_shows_each_status_and_filters_by_it(api, admin_user, other_org, django_capture_on_commit_callbacks):
    client = api(admin_user)
    _invite(client, "pending@example.com")
    accepted = _invite(client, "accepted@example.com")
    expired = _invite(client, "expired@example.com")
    revoked = _invite(client, "revoked@example.com")
    _invite(api(AdminFactory(organization=other_org)), "elsewhere@example.com")
    api().post("/api/v1/auth/activate", {"code": accepted["code"], "password": NEW}, format="json")
    Invitation.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.delete(f"/api/v1/invitations/{revoked['id']}").status_code == 204
    assert _statuses(client) == [
        ("revoked@example.com", "revoked"),
        ("expired@example.com", "expired"),
        ("accepted@example.com", "accepted"),
        ("pending@example.com", "pending"),
    ]
    for status in ("pending", "accepted", "expired", "revoked"):
        assert _statuses(client, status) == [(f"{status}@example.com", status)]
    assert client.get("/api/v1/invitations", {"status": "gossip"}).status_code == 400


def test_only_admins_list_resend_and_revoke(api, admin_user, leader, employee):
    invitation = _invite(api(admin_user), "someone@example.com")
    for person in (leader, employee):
        client = api(person)
        assert client.get("/api/v1/invitations").status_code == 403
        assert client.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code == 403
        assert client.delete(f"/api/v1/invitations/{invitation['id']}").status_code == 403


def test_resend_gives_a_new_code_and_ends_the_old_one(api, admin_user, django_capture_on_commit_callbacks):
    client = api(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        first = _invite(client, "again@example.com")
    Invitation.objects.filter(pk=first["id"]).update(expires_at=timezone.now() - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/invitations/{first['id']}/resend")
    assert response.status_code == 200, response.content
    second = response.json()
    assert second["id"] == first["id"] and second["code"] != first["code"]
    assert [message.to for message in mail.outbox] == [["again@example.com"], ["again@example.com"]]
    assert second["code"] in mail.outbox[-1].body
    assert api().post("/api/v1/auth/activate", {"code": first["code"], "password": NEW}, format="json").status_code == 400
    assert api().post("/api/v1/auth/activate", {"code": second["code"], "password": NEW}, format="json").status_code == 201
    assert client.post(f"/api/v1/invitations/{first['id']}/resend").status_code == 409  # accepted now


def test_revoke_is_idempotent_and_the_code_stops_working(api, admin_user):
    client = api(admin_user)
    invitation = _invite(client, "nope@example.com")
    assert client.delete(f"/api/v1/invitations/{invitation['id']}").status_code == 204
    assert client.delete(f"/api/v1/invitations/{invitation['id']}").status_code == 204
    assert api().post("/api/v1/auth/activate", {"code": invitation["code"], "password": NEW}, format="json").status_code == 400
    assert client.post(f"/api/v1/invitations/{invitation['id']}/resend").status_code == 409


def test_the_list_costs_the_same_queries_whatever_its_length(api, admin_user, django_assert_num_queries):
    client = api(admin_user)
    client.get("/api/v1/invitations")
    counts = []
    for total in (1, 6):
        while Invitation.objects.count() < total:
            _invite(client, f"p{Invitation.objects.count()}@example.com")
        with django_assert_num_queries(2) as captured:  # token + user + organisation; the page
            assert len(client.get("/api/v1/invitations").json()["results"]) == total
        counts.append(len(captured.captured_queries))
    assert counts == [2, 2]

"""`GET /me` and the unread count (issue #10, F5): a plain dict from fresh reads.

Nothing is cached between requests, so each change that /me or the badge shows must
be visible on the very next request, and a revoked token or a deactivated person must
be refused on the very next request. These tests go through the public API.
"""

from __future__ import annotations

import pytest

from accounts import selectors
from accounts.models import Membership, Role
from accounts.serializers import MeSerializer
from notifications.models import Notification
from server.db import CompiledQuery
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.media.factories import ready_media
from tests.notifications.factories import emit_post


def _serializer_body(user) -> dict:
    class _Request:
        pass

    request = _Request()
    request.user = user
    return MeSerializer(selectors.access_user(actor=user, user_id=user.pk), context={"request": request}).data


@pytest.mark.parametrize("with_groups", [False, True])
@pytest.mark.parametrize("with_avatar", [False, True])
def test_me_answers_exactly_what_the_serializer_renders(api, employee, org, with_avatar, with_groups):
    for name in ("Zeta", "alpha", "Beta") if with_groups else ():
        MembershipFactory(user=employee, group=GroupFactory(organization=org, name=name))
    client = api(employee)
    if with_avatar:
        assert client.post("/api/v1/me/avatar", {"media_id": ready_media(owner=employee).pk}, format="json").status_code == 200
    body = client.get("/api/v1/me").json()
    assert body == _serializer_body(employee)
    assert list(body) == list(_serializer_body(employee))  # same key order too
    assert (body["avatar"] is not None) is with_avatar


def test_me_costs_two_queries_whatever_the_number_of_groups(api, employee, org, django_assert_num_queries):
    client = api(employee)
    client.get("/api/v1/me")  # the token's first use writes last_used_at
    with django_assert_num_queries(2):
        assert client.get("/api/v1/me").json()["groups"] == []
    for count in (1, 5):
        for _ in range(count):
            MembershipFactory(user=employee, group=GroupFactory(organization=org))
        # token + user + organisation; groups and avatar
        with django_assert_num_queries(2):
            assert client.get("/api/v1/me").status_code == 200


def test_unread_count_costs_two_queries(api, employee, django_assert_num_queries):
    client = api(employee)
    client.get("/api/v1/notifications/unread-count")
    with django_assert_num_queries(2):
        assert client.get("/api/v1/notifications/unread-count").json() == {"count": 0}


# --- every change shows on the next request --------------------------------------------


def test_profile_edit_shows_at_once(api, employee):
    client = api(employee)
    client.get("/api/v1/me")
    assert client.patch("/api/v1/me", {"name": "New Name", "language": "en", "timezone": "Asia/Tokyo"}).status_code == 200
    body = client.get("/api/v1/me").json()
    assert (body["name"], body["language"], body["timezone"]) == ("New Name", "en", "Asia/Tokyo")


def test_avatar_set_and_removed_show_at_once(api, employee):
    client = api(employee)
    assert client.get("/api/v1/me").json()["avatar"] is None
    client.post("/api/v1/me/avatar", {"media_id": ready_media(owner=employee).pk}, format="json")
    assert client.get("/api/v1/me").json()["avatar"] is not None
    assert client.delete("/api/v1/me/avatar").status_code in (200, 204)
    assert client.get("/api/v1/me").json()["avatar"] is None


def test_role_and_memberships_changed_by_an_admin_show_at_once(api, employee, admin_user, org):
    mine = api(employee)
    admin = api(admin_user)
    group = GroupFactory(organization=org, name="Night shift")
    assert mine.get("/api/v1/me").json()["groups"] == []
    response = admin.patch(f"/api/v1/users/{employee.pk}", {"role": Role.LEADER, "group_ids": [group.pk]}, format="json")
    assert response.status_code == 200, response.content
    body = mine.get("/api/v1/me").json()
    assert body["role"] == Role.LEADER
    assert [g["name"] for g in body["groups"]] == ["Night shift"]

    assert admin.delete(f"/api/v1/groups/{group.pk}/members/{employee.pk}").status_code == 204
    assert mine.get("/api/v1/me").json()["groups"] == []


def test_group_renamed_and_membership_role_show_at_once(api, employee, admin_user, org):
    group = GroupFactory(organization=org, name="Old")
    MembershipFactory(user=employee, group=group)
    mine = api(employee)
    assert mine.get("/api/v1/me").json()["groups"][0]["name"] == "Old"
    assert api(admin_user).patch(f"/api/v1/groups/{group.pk}", {"name": "New"}, format="json").status_code == 200
    Membership.objects.filter(user=employee, group=group).update(role="manager")  # as the admin site does
    [shown] = mine.get("/api/v1/me").json()["groups"]
    assert (shown["name"], shown["role"]) == ("New", "manager")


def test_organisation_edits_show_at_once(api, employee, org):
    client = api(employee)
    client.get("/api/v1/me")
    org.name, org.timezone, org.default_language = "Renamed", "America/Chicago", "en"
    org.save()  # the admin site's way
    employee.language = ""
    employee.timezone = ""
    employee.save()
    body = client.get("/api/v1/me").json()
    assert body["organization"]["name"] == "Renamed"
    assert (body["timezone"], body["language"]) == ("America/Chicago", "en")


def test_logout_refuses_the_token_on_the_next_request(api, employee):
    client = api(employee)
    assert client.get("/api/v1/me").status_code == 200
    assert client.post("/api/v1/auth/logout").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/notifications/unread-count").status_code == 401


def test_deactivation_refuses_the_token_on_the_next_request(api, employee, admin_user):
    client = api(employee)
    assert client.get("/api/v1/me").status_code == 200
    assert api(admin_user).post(f"/api/v1/users/{employee.pk}/deactivate").status_code == 204
    assert client.get("/api/v1/me").status_code == 401


def test_deactivation_outside_the_api_refuses_the_token_on_the_next_request(api, employee):
    client = api(employee)
    assert client.get("/api/v1/me").status_code == 200
    type(employee).objects.filter(pk=employee.pk).update(is_active=False)  # no service, no signal
    assert client.get("/api/v1/me").status_code == 401


def test_an_expired_token_is_refused_on_the_next_request(api, employee):
    from django.utils import timezone

    client = api(employee)
    assert client.get("/api/v1/me").status_code == 200
    employee.auth_tokens.update(expires_at=timezone.now())
    assert client.get("/api/v1/me").status_code == 401


def test_unread_count_follows_new_and_read_notifications(api, employee, django_capture_on_commit_callbacks):
    client = api(employee)
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 0}
    with django_capture_on_commit_callbacks(execute=True):
        emit_post(organization_id=employee.organization_id, post_id=1, addressed=[{"user_id": employee.pk, "reason": "mention"}])
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 1}
    assert client.post("/api/v1/notifications/read", {"all": True}).json() == {"count": 0}
    assert client.get("/api/v1/notifications/unread-count").json() == {"count": 0}


def test_unread_count_is_per_person(api, employee, django_capture_on_commit_callbacks):
    colleague = UserFactory(organization=employee.organization)
    with django_capture_on_commit_callbacks(execute=True):
        emit_post(organization_id=employee.organization_id, post_id=1, addressed=[{"user_id": colleague.pk, "reason": "mention"}])
    assert api(employee).get("/api/v1/notifications/unread-count").json() == {"count": 0}
    assert api(colleague).get("/api/v1/notifications/unread-count").json() == {"count": 1}


# --- the compiled queries are the ORM's ---------------------------------------------------


def test_a_compiled_query_answers_what_the_orm_answers(employee, org):
    MembershipFactory(user=employee, group=GroupFactory(organization=org, name="b"))
    MembershipFactory(user=employee, group=GroupFactory(organization=org, name="a"))
    other = UserFactory(organization=org)
    groups = CompiledQuery(
        lambda user_id: Membership.objects.filter(user_id=user_id).order_by("group__name").values_list("group__name", flat=True)
    )
    assert [row[0] for row in groups.rows(employee.pk)] == ["a", "b"]
    assert groups.rows(other.pk) == []
    unread = CompiledQuery(lambda user_id: Notification.objects.filter(recipient_id=user_id, read_at__isnull=True), count=True)
    assert unread.scalar(employee.pk) == 0


def test_a_compiled_query_refuses_an_argument_it_cannot_place(employee):
    ignored = CompiledQuery(lambda user_id: Membership.objects.filter(user_id=1))
    with pytest.raises(ValueError):
        ignored.rows(employee.pk)


def test_api_answers_carry_no_session_or_cookie_user_work(api, employee):
    response = api(employee).get("/api/v1/me")
    assert "sessionid" not in response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_an_idempotency_key_on_a_get_costs_no_query(api, employee, django_assert_num_queries):
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(2):  # the same two as without the header
        assert client.get("/api/v1/me", HTTP_IDEMPOTENCY_KEY="k-1").status_code == 200

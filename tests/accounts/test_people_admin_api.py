"""Reactivating a person, archiving a group, and group managers adding and removing members (issue #22)."""

from __future__ import annotations

from accounts.models import Group, Membership, User
from feed import services as feed_services
from tests.factories import DEFAULT_PASSWORD, GroupFactory, MembershipFactory, UserFactory


def test_a_deactivated_person_is_reactivated_and_signs_in_again(api, admin_user, employee, group):
    MembershipFactory(group=group, user=employee)
    client = api(admin_user)
    assert client.post(f"/api/v1/users/{employee.pk}/deactivate").status_code == 204
    login = {"email": employee.email, "password": DEFAULT_PASSWORD}
    assert api().post("/api/v1/auth/login", login, format="json").status_code == 401
    response = client.post(f"/api/v1/users/{employee.pk}/reactivate")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == employee.pk and response.json()["groups"][0]["id"] == group.pk
    assert client.post(f"/api/v1/users/{employee.pk}/reactivate").status_code == 200  # idempotent
    assert api().post("/api/v1/auth/login", login, format="json").status_code == 200


def test_only_admins_reactivate_and_never_an_erased_person(api, admin_user, leader, employee):
    from django.utils import timezone

    User.objects.filter(pk=employee.pk).update(is_active=False)
    assert api(leader).post(f"/api/v1/users/{employee.pk}/reactivate").status_code == 403
    User.objects.filter(pk=employee.pk).update(erased_at=timezone.now())
    response = api(admin_user).post(f"/api/v1/users/{employee.pk}/reactivate")
    assert response.status_code == 409 and response.json()["error"]["code"] == "erased"


def test_deleting_a_group_archives_it_posts_stay_members_go(api, admin_user, leader, employee, org):
    group = GroupFactory(organization=org, name="Night shift")
    MembershipFactory(group=group, user=employee)
    post = feed_services.post_create(author=leader, body="For the night shift", group_ids=[group.pk])
    client = api(admin_user)
    assert client.delete(f"/api/v1/groups/{group.pk}").status_code == 204
    assert not Membership.objects.filter(group=group).exists()
    assert Group.objects.get(pk=group.pk).archived_at is not None
    assert client.get(f"/api/v1/groups/{group.pk}").status_code == 404
    assert group.pk not in [row["id"] for row in client.get("/api/v1/groups").json()["results"]]
    assert client.get(f"/api/v1/posts/{post.pk}").json()["groups"][0]["name"] == "Night shift"  # the post stays
    # The name is free again, and an archived group cannot be given to anyone.
    assert client.post("/api/v1/groups", {"name": "Night shift"}, format="json").status_code == 201
    response = client.patch(f"/api/v1/users/{employee.pk}", {"group_ids": [group.pk]}, format="json")
    assert response.status_code == 400


def test_only_admins_archive_groups(api, leader, group):
    MembershipFactory(group=group, user=leader, role="manager")
    assert api(leader).delete(f"/api/v1/groups/{group.pk}").status_code == 403


def test_a_leader_who_manages_a_group_adds_and_removes_its_members(api, org, leader, group):
    MembershipFactory(group=group, user=leader, role="manager")
    newcomer = UserFactory(organization=org)
    client = api(leader)
    added = client.post(f"/api/v1/groups/{group.pk}/members", {"user_id": newcomer.pk}, format="json")
    assert added.status_code == 201, added.content
    assert client.delete(f"/api/v1/groups/{group.pk}/members/{newcomer.pk}").status_code == 204
    # Making or removing managers stays with admins.
    promoted = client.post(f"/api/v1/groups/{group.pk}/members", {"user_id": newcomer.pk, "role": "manager"}, format="json")
    assert promoted.status_code == 403
    other_manager = UserFactory(organization=org, role="leader")
    MembershipFactory(group=group, user=other_manager, role="manager")
    assert client.delete(f"/api/v1/groups/{group.pk}/members/{other_manager.pk}").status_code == 403


def test_leaders_of_other_groups_and_employees_do_not_manage_members(api, org, leader, employee, group):
    other = GroupFactory(organization=org)
    MembershipFactory(group=other, user=leader, role="manager")
    MembershipFactory(group=group, user=employee)
    newcomer = UserFactory(organization=org)
    for person in (leader, employee):
        client = api(person)
        assert client.post(f"/api/v1/groups/{group.pk}/members", {"user_id": newcomer.pk}, format="json").status_code == 403
        assert client.delete(f"/api/v1/groups/{group.pk}/members/{employee.pk}").status_code == 403
    assert Membership.objects.filter(group=group, user=employee).exists()

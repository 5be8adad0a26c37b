from accounts import signals
from accounts.models import Membership
from tests.factories import GroupFactory, MembershipFactory, UserFactory


class Recorder:
    def __init__(self, signal):
        self.calls = []
        self.signal = signal

    def __call__(self, sender, **kwargs):
        self.calls.append(kwargs)

    def __enter__(self):
        self.signal.connect(self, weak=False)
        return self

    def __exit__(self, *exc):
        self.signal.disconnect(self)


def test_admin_creates_and_edits_groups(api, admin_user):
    client = api(admin_user)
    created = client.post("/api/v1/groups", {"name": "Rotterdam", "kind": "location", "allow_member_posts": False}, format="json")
    assert created.status_code == 201
    assert created.json() == {**created.json(), "name": "Rotterdam", "kind": "location", "allow_member_posts": False, "member_count": 0}
    group_id = created.json()["id"]
    assert client.post("/api/v1/groups", {"name": "rotterdam"}, format="json").status_code == 409
    patched = client.patch(f"/api/v1/groups/{group_id}", {"allow_member_posts": True}, format="json")
    assert patched.status_code == 200 and patched.json()["allow_member_posts"] is True


def test_employees_and_leaders_cannot_manage_groups(api, employee, leader, group):
    for user in (employee, leader):
        client = api(user)
        assert client.post("/api/v1/groups", {"name": "X"}, format="json").status_code == 403
        assert client.patch(f"/api/v1/groups/{group.pk}", {"name": "Y"}, format="json").status_code == 403
        assert client.post(f"/api/v1/groups/{group.pk}/members", {"user_id": user.pk}, format="json").status_code == 403


def test_membership_add_remove_and_signal_after_commit(api, admin_user, group, employee, django_capture_on_commit_callbacks):
    client = api(admin_user)
    with Recorder(signals.membership_changed) as recorder:
        with django_capture_on_commit_callbacks(execute=True):
            added = client.post(f"/api/v1/groups/{group.pk}/members", {"user_id": employee.pk, "role": "manager"}, format="json")
        assert added.status_code == 201
        assert added.json()["role"] == "manager"
        assert recorder.calls == [{"signal": signals.membership_changed, "user_id": employee.pk, "group_id": group.pk, "joined": True}]
        with django_capture_on_commit_callbacks(execute=True):
            assert client.delete(f"/api/v1/groups/{group.pk}/members/{employee.pk}").status_code == 204
        assert recorder.calls[-1]["joined"] is False
    assert not Membership.objects.filter(group=group, user=employee).exists()
    assert client.delete(f"/api/v1/groups/{group.pk}/members/{employee.pk}").status_code == 404


def test_add_member_from_another_organisation_is_400(api, admin_user, group):
    stranger = UserFactory()
    response = api(admin_user).post(f"/api/v1/groups/{group.pk}/members", {"user_id": stranger.pk}, format="json")
    assert response.status_code == 400
    assert "user_id" in response.json()["error"]["fields"]


def test_admin_changes_role_and_groups(api, admin_user, employee, group):
    other = GroupFactory(organization=admin_user.organization)
    MembershipFactory(group=other, user=employee)
    response = api(admin_user).patch(f"/api/v1/users/{employee.pk}", {"role": "leader", "group_ids": [group.pk]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["role"] == "leader"
    assert [g["id"] for g in response.json()["groups"]] == [group.pk]


def test_admin_cannot_demote_self_or_deactivate_self(api, admin_user):
    client = api(admin_user)
    assert client.patch(f"/api/v1/users/{admin_user.pk}", {"role": "employee"}, format="json").status_code == 400
    assert client.post(f"/api/v1/users/{admin_user.pk}/deactivate").status_code == 400


def test_deactivation_sends_signals_and_hides_from_directory(api, admin_user, employee, django_capture_on_commit_callbacks):
    with Recorder(signals.user_deactivated) as deactivated, Recorder(signals.auth_tokens_revoked) as revoked:
        api(employee)  # a device session to revoke
        with django_capture_on_commit_callbacks(execute=True):
            assert api(admin_user).post(f"/api/v1/users/{employee.pk}/deactivate").status_code == 204
    assert deactivated.calls[0]["user"].pk == employee.pk
    assert revoked.calls[0]["user_id"] == employee.pk and len(revoked.calls[0]["token_ids"]) == 1
    ids = [user["id"] for user in api(admin_user).get("/api/v1/users").json()["results"]]
    assert employee.pk not in ids
    assert api(admin_user).get(f"/api/v1/users/{employee.pk}").status_code == 404


def test_admin_actions_are_announced_for_the_audit_log(api, admin_user, employee, django_capture_on_commit_callbacks):
    with Recorder(signals.admin_action) as audit, django_capture_on_commit_callbacks(execute=True):
        api(admin_user).patch(f"/api/v1/users/{employee.pk}", {"role": "leader"}, format="json")
    assert audit.calls[0]["action"] == "user.updated"
    assert audit.calls[0]["before"]["role"] == "employee" and audit.calls[0]["after"]["role"] == "leader"
    assert audit.calls[0]["organization_id"] == admin_user.organization_id

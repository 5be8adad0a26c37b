"""The audit log: an entry for every administrative action, written with the action, never changed."""

import csv
import datetime as dt
import io

import pytest
from django.db import DatabaseError, connection, transaction

from accounts import services as account_services
from moderation.audit import AuditEntry
from recognition.models import DecisionMethod
from recognition.services import award_rounds_close_due
from tests.conftest import requires_postgres
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, NominationFactory

UTC = dt.UTC
AUDIT = "/api/v1/moderation/audit-log"


def actions(org) -> list[str]:
    return list(AuditEntry.objects.filter(organization=org).order_by("id").values_list("action", flat=True))


# --- every admin action leaves an entry ----------------------------------------------------------


def test_invitation_import_role_change_and_deactivation_are_logged(api, admin_user, employee, group):
    client = api(admin_user)
    assert client.post("/api/v1/invitations", {"email": "new@example.com", "name": "New"}, format="json").status_code == 201
    upload = io.BytesIO(b"email,name,role,groups\nimported@example.com,Imported,employee,\n")
    upload.name = "staff.csv"
    assert client.post("/api/v1/users/import", {"file": upload}, format="multipart").status_code == 200
    assert client.patch(f"/api/v1/users/{employee.pk}", {"role": "leader"}, format="json").status_code == 200
    assert client.post(f"/api/v1/users/{employee.pk}/deactivate").status_code == 204
    assert actions(admin_user.organization) == ["invitation.created", "users.imported", "user.updated", "user.deactivated"]
    change = AuditEntry.objects.get(action="user.updated")
    assert (change.actor_id, change.target_type, change.target_id) == (admin_user.pk, "user", employee.pk)
    assert change.target_label == employee.name
    assert change.before["role"] == "employee" and change.after["role"] == "leader"
    assert change.ip == "127.0.0.1"


def test_the_client_address_behind_a_proxy(api, admin_user, employee, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's peer is the load balancer
    api(admin_user).patch(
        f"/api/v1/users/{employee.pk}", {"role": "leader"}, format="json", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )
    assert AuditEntry.objects.get().ip == "198.51.100.7"


def test_group_and_membership_changes_are_logged(api, admin_user, employee):
    client = api(admin_user)
    group_id = client.post("/api/v1/groups", {"name": "Kassa"}, format="json").json()["id"]
    client.post(f"/api/v1/groups/{group_id}/members", {"user_id": employee.pk}, format="json")
    client.delete(f"/api/v1/groups/{group_id}/members/{employee.pk}")
    assert actions(admin_user.organization) == ["group.created", "membership.added", "membership.removed"]


def test_values_and_award_categories_are_logged(api, admin_user):
    client = api(admin_user)
    value_id = client.post("/api/v1/values", {"name": "Service"}, format="json").json()["id"]
    client.patch(f"/api/v1/values/{value_id}", {"name": "Great service"}, format="json")
    category_id = client.post("/api/v1/awards/categories", {"name": "Star"}, format="json").json()["id"]
    client.patch(f"/api/v1/awards/categories/{category_id}", {"name": "Superstar"}, format="json")
    assert actions(admin_user.organization) == ["value.created", "value.updated", "award_category.created", "award_category.updated"]
    renamed = AuditEntry.objects.get(action="value.updated")
    assert (renamed.before["name"], renamed.after["name"], renamed.target_label) == ("Service", "Great service", "Great service")


def test_award_pick_self_pick_and_fallback_override_are_logged(api, org):
    month = dt.date(2026, 3, 1)
    category = AwardCategoryFactory(organization=org, method=DecisionMethod.LEADER_PICK, leader_pick_days=5)
    picked = AwardRoundFactory(category=category, month=month)
    leader = LeaderFactory(organization=org)
    nomination = NominationFactory(round=picked)
    NominationFactory(round=picked, nominee=leader)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    client = api(leader)
    assert client.post(f"/api/v1/awards/rounds/{picked.pk}/winner", {"nominee_id": leader.pk}, format="json").status_code == 400
    assert client.post(f"/api/v1/awards/rounds/{picked.pk}/winner", {"nominee_id": nomination.nominee_id}, format="json").status_code == 200
    logged = actions(org)
    assert logged[:1] == ["award.round.closed"]
    assert "award.round.self_pick_refused" in logged and "award.round.winner_picked" in logged
    assert logged[-1] == "award.round.announced"
    pick = AuditEntry.objects.get(action="award.round.winner_picked")
    assert (pick.actor_id, pick.target_type, pick.target_id, pick.after) == (
        leader.pk,
        "award_round",
        picked.pk,
        {"nominee_id": nomination.nominee_id},
    )

    other_category = AwardCategoryFactory(organization=org, method=DecisionMethod.LEADER_PICK, leader_pick_days=5)
    unpicked = AwardRoundFactory(category=other_category, month=month)
    NominationFactory(round=unpicked)
    award_rounds_close_due(now=dt.datetime(2026, 4, 1, tzinfo=UTC))
    award_rounds_close_due(now=dt.datetime(2026, 4, 7, tzinfo=UTC))
    fallback = AuditEntry.objects.get(action="award.round.pick_fallback")
    assert (fallback.actor_id, fallback.target_id, fallback.ip) == (None, unpicked.pk, None)


def test_the_entry_is_written_in_the_actions_transaction(admin_user, employee):
    # Rolled back together: no entry for a change that did not happen, and no change without its entry.
    with pytest.raises(RuntimeError), transaction.atomic():
        account_services.user_update(actor=admin_user, user=employee, role="leader")
        assert AuditEntry.objects.filter(action="user.updated").exists()
        raise RuntimeError("crash before commit")
    assert not AuditEntry.objects.exists()
    employee.refresh_from_db()
    assert employee.role == "employee"


# --- append-only ------------------------------------------------------------------------------------


def test_no_route_changes_the_log(api, admin_user, employee):
    account_services.user_deactivate(actor=admin_user, user=employee)
    entry = AuditEntry.objects.get()
    client = api(admin_user)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(AUDIT, {}, format="json").status_code == 405
        assert getattr(client, method)(AUDIT + ".csv", {}, format="json").status_code == 405
    assert client.get(f"/api/v1/moderation/audit-log/{entry.pk}").status_code == 404


def test_the_model_refuses_updates_and_deletes(admin_user, employee):
    account_services.user_deactivate(actor=admin_user, user=employee)
    entry = AuditEntry.objects.get()
    entry.note = "covering my tracks"
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


@requires_postgres("the append-only trigger exists on PostgreSQL only")
def test_postgres_trigger_refuses_update_and_delete(admin_user, employee):
    account_services.user_deactivate(actor=admin_user, user=employee)
    entry = AuditEntry.objects.get()
    for statement in ("UPDATE moderation_auditentry SET note = 'x' WHERE id = %s", "DELETE FROM moderation_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(note="bulk")
    assert AuditEntry.objects.get().note == ""


# --- the API ---------------------------------------------------------------------------------------


def make_entries(admin, people: int) -> None:
    for _ in range(people):
        account_services.user_update(actor=admin, user=UserFactory(organization=admin.organization), role="leader")


def test_only_admins_read_the_log(api, employee, leader):
    for user in (employee, leader):
        assert api(user).get(AUDIT).status_code == 403
        assert api(user).get(AUDIT + ".csv").status_code == 403


def test_list_is_newest_first_scoped_and_paginated(api, admin_user, other_org):
    make_entries(admin_user, 3)
    make_entries(AdminFactory(organization=other_org), 2)
    client = api(admin_user)
    page = client.get(AUDIT, {"page_size": 2}).json()
    assert [e["action"] for e in page["results"]] == ["user.updated", "user.updated"]
    assert page["results"][0]["id"] > page["results"][1]["id"]
    assert page["results"][0]["actor"] == {"id": admin_user.pk, "name": admin_user.name}
    rest = client.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None


def test_filters(api, admin_user, employee, group):
    other_admin = AdminFactory(organization=admin_user.organization)
    account_services.user_update(actor=admin_user, user=employee, role="leader")
    account_services.group_update(actor=other_admin, group=group, name="Renamed")
    client = api(admin_user)

    def ids(**params):
        return [e["action"] for e in client.get(AUDIT, params).json()["results"]]

    assert ids(action="user.") == ["user.updated"]
    assert ids(actor_id=other_admin.pk) == ["group.updated"]
    assert ids(target_type="user", target_id=employee.pk) == ["user.updated"]
    assert ids(target_type="group") == ["group.updated"]
    response = client.get(AUDIT, {"actor_id": "abc"})
    assert response.status_code == 400 and "actor_id" in response.json()["error"]["fields"]


@pytest.mark.parametrize("page_size", [2, 10])
def test_list_query_count_does_not_depend_on_page_size(api, admin_user, django_assert_num_queries, page_size):
    make_entries(admin_user, 12)
    client = api(admin_user)
    # token + user, the page with its actors
    with django_assert_num_queries(3):
        response = client.get(AUDIT, {"page_size": page_size})
    assert len(response.json()["results"]) == page_size


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(text)))


def test_csv_export_streams_the_filtered_log_with_formula_safe_cells(api, admin_user):
    evil = UserFactory(organization=admin_user.organization, name='=HYPERLINK("http://evil")')
    account_services.user_update(actor=admin_user, user=evil, role="leader")
    group = GroupFactory(organization=admin_user.organization, name="@SUM(A1)")
    account_services.group_update(actor=admin_user, group=group, name="+1 Kassa")
    response = api(admin_user).get(AUDIT + ".csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    rows = read_csv(response)
    assert rows[0][:3] == ["id", "created_at", "action"]
    body = rows[1:]
    assert [row[2] for row in body] == ["group.updated", "user.updated"]
    labels = [row[7] for row in body]
    assert labels == ["'+1 Kassa", '\'=HYPERLINK("http://evil")']
    for row in body:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    filtered = read_csv(api(admin_user).get(AUDIT + ".csv", {"action": "user."}))
    assert [row[2] for row in filtered[1:]] == ["user.updated"]

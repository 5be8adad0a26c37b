"""Erasure runs in the background and always finishes (issue #25 item 3).

Before: renaming the person to "Former colleague" collided with unique names (a group named
after them, a company value), the transaction rolled back and every retry failed. Now each
person gets `Former colleague #<hash>`, a rewritten unique name that still collides gets its
row id, each step commits on its own, and a job that stops resumes where it stopped.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Group, User
from feed import services as feed_services
from moderation import erasure
from moderation import services as moderation_services
from moderation.audit import AuditEntry
from moderation.models import ErasureJob
from recognition import services as recognition_services
from recognition.models import CompanyValue
from tests.factories import GroupFactory, MembershipFactory, UserFactory
from tests.moderation.test_privacy import traces

NAME = "Jan Quist"
EMAIL = "jan.quist@example.org"


@pytest.fixture
def jan(org, admin_user, leader, group, django_capture_on_commit_callbacks):
    """A person whose name is everywhere: group names, values, mentions, nominations, reports, the audit log."""
    person = UserFactory(organization=org, name=NAME, email=EMAIL)
    MembershipFactory(group=group, user=person)
    colleague = UserFactory(organization=org)
    MembershipFactory(group=group, user=colleague)
    with django_capture_on_commit_callbacks(execute=True):
        GroupFactory(organization=org, name=NAME)
        GroupFactory(organization=org, name=f"Fans of {NAME}")
        # A group that, rewritten, would take the name of one that already exists.
        GroupFactory(organization=org, name=f"Team {erasure.erased_label(person.pk)}")
        GroupFactory(organization=org, name=f"Team {NAME}")
        GroupFactory(organization=org, name="Former colleague")  # left by an erasure of the old kind
        recognition_services.value_create(actor=admin_user, name=NAME, description=f"Be like {NAME}")
        recognition_services.value_create(actor=admin_user, name="Former colleague", description="old")
        post = feed_services.post_create(author=person, body="My first shift", group_ids=[group.pk])
        feed_services.comment_create(author=colleague, post=post, body=f"Welcome {NAME} @[user:{person.pk}]")
        category = recognition_services.award_category_create(actor=admin_user, name="Colleague of the month", description="x")
        recognition_services.nomination_create(
            nominator=colleague, round=category.rounds.get(), nominee_id=person.pk, reason=f"{NAME} always helps everyone out"
        )
        moderation_services.report_create(
            reporter=colleague, target_type="post", target_id=post.pk, reason="other", note=f"Posted by {NAME} ({EMAIL})"
        )
        from accounts.audit import audit_record

        audit_record(actor=admin_user, action="test.note", target_type="user", target_id=person.pk, organization_id=org.pk, note=NAME)
    return person


def _erase(api, admin_user, person, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post(f"/api/v1/moderation/users/{person.pk}/erase", {"confirm": True}, format="json")
    assert response.status_code == 202, response.content
    return api(admin_user).get(f"/api/v1/moderation/users/{person.pk}/erase").json()


def test_erasure_finishes_through_unique_names_and_leaves_no_trace(api, org, admin_user, jan, django_capture_on_commit_callbacks):
    before = {trace.split(" ")[0] for trace in traces(NAME, EMAIL)}
    assert {"accounts.Group.name", "recognition.CompanyValue.name", "feed.Comment.body", "recognition.Nomination.reason"} <= before
    assert {"moderation.Report.note", "moderation.AuditEntry.note"} <= before
    job = _erase(api, admin_user, jan, django_capture_on_commit_callbacks)
    assert job["status"] == "done", job
    assert job["step"] == job["steps_total"] > 3 and job["last_error"] == "" and job["report"]["rows_redacted"] > 5
    assert traces(NAME, EMAIL) == []
    label = erasure.erased_label(jan.pk)
    names = set(Group.objects.filter(organization=org).values_list("name", flat=True))
    assert {label, f"Fans of {label}", f"Team {label}", "Former colleague"} <= names
    assert any(name.startswith(f"Team {label}-") for name in names)  # the collision, made unique by its row id
    assert set(CompanyValue.objects.filter(organization=org).values_list("name", flat=True)) >= {label, "Former colleague"}
    assert ErasureJob.objects.get(user=jan).needles == []
    # The export of the erased person names them no more either.
    assert NAME not in api(admin_user).get(f"/api/v1/moderation/users/{jan.pk}/export").content.decode()


def test_two_people_of_the_same_name_are_erased_one_after_the_other(api, org, admin_user, jan, django_capture_on_commit_callbacks):
    namesake = UserFactory(organization=org, name=NAME, email="other.jan@example.org")
    assert _erase(api, admin_user, jan, django_capture_on_commit_callbacks)["status"] == "done"
    GroupFactory(organization=org, name=NAME)  # named after the second one now
    assert _erase(api, admin_user, namesake, django_capture_on_commit_callbacks)["status"] == "done"
    assert erasure.erased_label(jan.pk) != erasure.erased_label(namesake.pk)
    assert traces(NAME) == []


def test_a_job_that_stops_mid_way_resumes_where_it_stopped(api, org, admin_user, jan, monkeypatch, django_capture_on_commit_callbacks):
    real = erasure._redact_model
    failures = {"left": 1}

    def flaky(model, job):
        if model._meta.label == "recognition.Nomination" and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("worker lost")
        return real(model, job)

    monkeypatch.setattr(erasure, "_redact_model", flaky)
    job = _erase(api, admin_user, jan, django_capture_on_commit_callbacks)
    assert job["status"] == "running" and job["current"] == "recognition.Nomination" and job["attempts"] == 1
    assert "worker lost" in job["last_error"] and 0 < job["step"] < job["steps_total"]
    assert User.objects.get(pk=jan.pk).erased_at is not None  # the steps before it stay done
    # The sweeper finds the job idle and runs it again: it goes on from the failed step.
    ErasureJob.objects.filter(pk=job["id"]).update(updated_at=timezone.now() - timedelta(hours=1))
    assert erasure.erasure_jobs_resume() == 1
    done = api(admin_user).get(f"/api/v1/moderation/users/{jan.pk}/erase").json()
    assert done["status"] == "done" and done["last_error"] == ""
    assert traces(NAME, EMAIL) == []
    assert AuditEntry.objects.filter(action="user.erased", target_id=jan.pk).count() == 1


def test_running_a_finished_job_again_changes_nothing(api, admin_user, jan, django_capture_on_commit_callbacks):
    job = _erase(api, admin_user, jan, django_capture_on_commit_callbacks)
    assert erasure.erasure_run(job_id=job["id"]) == "done"
    assert AuditEntry.objects.filter(action="user.erased", target_id=jan.pk).count() == 1
    response = api(admin_user).post(f"/api/v1/moderation/users/{jan.pk}/erase", {"confirm": True}, format="json")
    assert response.status_code == 409


def test_a_person_exports_their_own_data_and_asks_to_be_erased(api, org, admin_user, jan, django_capture_on_commit_callbacks):
    client = api(jan)
    export = client.get("/api/v1/me/export")
    assert export.status_code == 200
    body = export.json()
    assert body["profile"]["email"] == EMAIL and body == {
        **api(admin_user).get(f"/api/v1/moderation/users/{jan.pk}/export").json(),
        "exported_at": body["exported_at"],
    }
    requested = client.post("/api/v1/me/erasure-request")
    assert requested.status_code == 202 and requested.json()["status"] == "requested"
    assert client.post("/api/v1/me/erasure-request").json()["id"] == requested.json()["id"]  # idempotent
    assert AuditEntry.objects.filter(action="user.erasure_requested", target_id=jan.pk).count() == 1
    assert User.objects.get(pk=jan.pk).name == NAME  # nothing happens until an admin confirms
    job = _erase(api, admin_user, jan, django_capture_on_commit_callbacks)
    assert job["status"] == "done" and job["requested_at"]
    assert api(token=None).get("/api/v1/me/export").status_code == 401


def test_erasure_status_is_for_admins_of_the_organisation(api, admin_user, leader, jan, other_org):
    from tests.factories import AdminFactory

    assert api(leader).get(f"/api/v1/moderation/users/{jan.pk}/erase").status_code == 403
    assert api(AdminFactory(organization=other_org)).get(f"/api/v1/moderation/users/{jan.pk}/erase").status_code == 404
    assert api(admin_user).get(f"/api/v1/moderation/users/{jan.pk}/erase").status_code == 404  # none yet

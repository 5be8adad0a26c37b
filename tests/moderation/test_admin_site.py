"""The Django admin site for an organisation's admins, through Django's test client on the admin pages."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import User
from feed.models import Goal
from moderation.audit import AuditEntry
from recognition.models import CompanyValue
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.feed.factories import PostFactory
from tests.recognition.factories import AwardCategoryFactory


@pytest.fixture
def orgs(db):
    org_a, org_b = OrganizationFactory(name="Alpha Stores"), OrganizationFactory(name="Beta Retail")
    return org_a, org_b


@pytest.fixture
def people(orgs):
    org_a, org_b = orgs
    return {
        "admin_a": AdminFactory(organization=org_a, name="Ada Admin"),
        "alice": UserFactory(organization=org_a, name="Sam Alpha", email="sam.alpha@example.com"),
        "bob": UserFactory(organization=org_b, name="Sam Beta", email="sam.beta@example.com"),
        "admin_b": AdminFactory(organization=org_b),
    }


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def org_admin(people):
    return logged_in(people["admin_a"])


def test_the_role_decides_who_opens_the_admin_site_not_is_staff(people, orgs):
    # Org admins are not Django staff (seed_demo, create_organization): their role lets them in.
    assert not people["admin_a"].is_staff
    assert logged_in(people["admin_a"]).get("/admin/").status_code == 200
    for refused in (
        UserFactory(organization=orgs[0], is_staff=True),  # an employee with the flag
        LeaderFactory(organization=orgs[0], is_staff=True),
        AdminFactory(organization=orgs[0], is_active=False),
    ):
        response = logged_in(refused).get("/admin/")
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), refused.role


def test_user_changelist_shows_only_the_own_organisation(org_admin, people):
    page = org_admin.get("/admin/accounts/user/").content.decode()
    assert "sam.alpha@example.com" in page
    assert "sam.beta@example.com" not in page
    assert "Beta Retail" not in page  # no organisation filter or column of other tenants


def test_search_finds_only_the_own_organisation(org_admin, people):
    page = org_admin.get("/admin/accounts/user/", {"q": "Sam"}).content.decode()
    assert "sam.alpha@example.com" in page and "sam.beta@example.com" not in page
    assert "1 result" in page


def test_change_form_offers_only_own_organisation_choices(org_admin, people, orgs):
    org_a, org_b = orgs
    GroupFactory(organization=org_a, name="Kassa Alpha")
    GroupFactory(organization=org_b, name="Kassa Beta")
    category = AwardCategoryFactory(organization=org_a)
    page = org_admin.get(f"/admin/recognition/awardcategory/{category.pk}/change/").content.decode()
    assert "Kassa Alpha" in page and "Kassa Beta" not in page
    assert 'name="organization"' not in page  # set automatically, never editable by an org admin
    goal = Goal.objects.create(organization=org_a, owner=people["alice"], title="Sell more")
    page = org_admin.get(f"/admin/feed/goal/{goal.pk}/change/").content.decode()
    assert "Sam Alpha" in page and "Sam Beta" not in page


def test_change_form_rejects_another_organisations_related_object(org_admin, people, orgs):
    goal = Goal.objects.create(organization=orgs[0], owner=people["alice"], title="Sell more")
    response = org_admin.post(
        f"/admin/feed/goal/{goal.pk}/change/",
        {"owner": people["bob"].pk, "title": "Sell more", "status": "on_track", "current_value": "0", "org_wide": "on"},
    )
    assert response.status_code == 200  # the form again, with an error
    assert "Select a valid choice" in response.content.decode()
    goal.refresh_from_db()
    assert goal.owner_id == people["alice"].pk


def test_another_organisations_object_is_not_reachable(org_admin, people, orgs):
    for url in (
        f"/admin/accounts/user/{people['bob'].pk}/change/",
        f"/admin/accounts/organization/{orgs[1].pk}/change/",
        f"/admin/recognition/awardcategory/{AwardCategoryFactory(organization=orgs[1]).pk}/change/",
    ):
        response = org_admin.get(url)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response["Location"] == "/admin/"
    response = org_admin.get(f"/admin/accounts/user/{people['bob'].pk}/change/", follow=True)
    assert "sam.beta@example.com" not in response.content.decode()


def test_added_rows_belong_to_the_admins_organisation(org_admin, orgs):
    response = org_admin.post(
        "/admin/recognition/companyvalue/add/", {"name": "Service", "description": "", "emoji": "", "active": "on", "position": "0"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert CompanyValue.objects.get(name="Service").organization_id == orgs[0].pk
    # ...and the change is in the audit log.
    entry = AuditEntry.objects.get(action="admin_site.added")
    assert (entry.organization_id, entry.target_type, entry.target_label) == (orgs[0].pk, "companyvalue", "Service")


def test_org_admin_cannot_grant_platform_powers_or_bulk_delete(org_admin, people):
    page = org_admin.get(f"/admin/accounts/user/{people['alice'].pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    changelist = org_admin.get("/admin/accounts/user/").content.decode()
    assert "delete_selected" not in changelist


def test_platform_models_are_hidden_from_org_admins(org_admin):
    assert org_admin.get("/admin/notifications/outboxevent/").status_code == 403
    assert org_admin.get("/admin/accounts/organization/add/").status_code == 403


def test_user_content_is_shown_escaped(org_admin, people):
    PostFactory(author=people["alice"], body="<script>alert('x')</script> hello")
    page = org_admin.get("/admin/feed/post/").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_audit_log_admin_is_read_only_and_scoped(org_admin, people, orgs):
    account_services.user_update(actor=people["admin_a"], user=people["alice"], role="leader")
    account_services.user_update(actor=people["admin_b"], user=people["bob"], role="leader")
    page = org_admin.get("/admin/moderation/auditentry/").content.decode()
    assert "Sam Alpha" in page and "Sam Beta" not in page
    entry = AuditEntry.objects.get(target_id=people["alice"].pk)
    assert org_admin.get("/admin/moderation/auditentry/add/").status_code == 403
    assert org_admin.get(f"/admin/moderation/auditentry/{entry.pk}/delete/").status_code == 403
    view = org_admin.get(f"/admin/moderation/auditentry/{entry.pk}/change/")
    assert view.status_code == 200 and 'type="submit"' not in view.content.decode().split('id="auditentry_form"')[-1]
    org_admin.post(f"/admin/moderation/auditentry/{entry.pk}/change/", {"note": "rewritten"})
    entry.refresh_from_db()
    assert entry.note == ""
    superuser = User.objects.create_superuser("root@example.com", "pw-root-123")
    assert logged_in(superuser).get("/admin/moderation/auditentry/add/").status_code == 403


def test_superuser_sees_every_organisation(people):
    superuser = User.objects.create_superuser("root@example.com", "pw-root-123")
    page = logged_in(superuser).get("/admin/accounts/user/").content.decode()
    assert "sam.alpha@example.com" in page and "sam.beta@example.com" in page
    assert logged_in(superuser).get(f"/admin/accounts/user/{people['bob'].pk}/change/").status_code == 200


def test_moderation_queue_in_the_admin_site_is_scoped_and_decides_through_the_services(org_admin, people, orgs):
    from moderation import services as moderation_services
    from moderation.models import ReportCase

    org_a, org_b = orgs
    own_post = PostFactory(author=people["alice"], body="Own organisation's reported post")
    other_post = PostFactory(author=people["bob"], body="Other organisation's reported post")
    reporter_a = UserFactory(organization=org_a)
    reporter_b = UserFactory(organization=org_b)
    moderation_services.report_create(reporter=reporter_a, target_type="post", target_id=own_post.pk, reason="spam", note="ALPHA-NOTE")
    moderation_services.report_create(reporter=reporter_b, target_type="post", target_id=other_post.pk, reason="spam", note="BETA-NOTE")
    own_case = ReportCase.objects.get(post=own_post)
    other_case = ReportCase.objects.get(post=other_post)

    changelist = org_admin.get("/admin/moderation/reportcase/")
    assert changelist.status_code == 200
    assert f"/admin/moderation/reportcase/{own_case.pk}/change/" in changelist.content.decode()
    assert f"/admin/moderation/reportcase/{other_case.pk}/change/" not in changelist.content.decode()
    detail = org_admin.get(f"/admin/moderation/reportcase/{own_case.pk}/change/")
    assert detail.status_code == 200 and "ALPHA-NOTE" in detail.content.decode()
    assert org_admin.get(f"/admin/moderation/reportcase/{other_case.pk}/change/").status_code == 302  # to the index

    # The action decides through the service (event, audit); another organisation's id is ignored.
    response = org_admin.post(
        "/admin/moderation/reportcase/",
        {"action": "resolve_hide", "_selected_action": [own_case.pk, other_case.pk], "index": 0},
    )
    assert response.status_code == 302
    own_case.refresh_from_db(), other_case.refresh_from_db(), own_post.refresh_from_db(), other_post.refresh_from_db()
    assert (own_case.status, own_case.resolution) == ("resolved", "hide") and own_post.hidden_at is not None
    assert other_case.status == "open" and other_post.hidden_at is None
    assert AuditEntry.objects.filter(action="moderation.report_hide", organization=org_a).count() == 1
    assert org_admin.get("/admin/moderation/mute/").status_code == 200


# --- Saving a person: the services' effects, not only the row ------------------------------------


@contextmanager
def listening(*receivers):
    """Connect (signal, receiver) pairs for the duration of the block."""
    for signal, receiver in receivers:
        signal.connect(receiver)
    try:
        yield
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)


def _change_form_data(client: Client, url: str) -> dict:
    """What the change form would post back unchanged: the form's and the inlines' current values."""
    response = client.get(url)
    assert response.status_code == 200
    data: dict = {}

    def add(form, prefix: str = "") -> None:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = f"{prefix}{name}"
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = value
        return None

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{name}"] = value
        for index, form in enumerate(formset.forms):
            add(form, f"{formset.prefix}-{index}-")
    return data


def test_deactivating_in_the_admin_site_ends_sessions_sockets_and_push(org_admin, people, api, django_capture_on_commit_callbacks):
    # The admin site saved the row only: the person's phone kept its session, its open
    # socket kept streaming the company's posts and its device kept its push registration.
    from accounts import signals
    from accounts.models import AuthToken
    from notifications.models import Device
    from tests.factories import issue_token
    from tests.notifications.push_factories import DeviceFactory

    alice = people["alice"]
    token = issue_token(alice)
    DeviceFactory(user=alice)  # a push registration, on a session of its own
    sessions = AuthToken.objects.filter(user=alice).count()
    sent: list[str] = []

    def deactivated(sender, *, user, **kwargs):
        sent.append(f"deactivated {user.pk}")

    def revoked(sender, *, user_id, token_ids, **kwargs):
        sent.append(f"revoked {user_id} x{len(token_ids)}")

    url = f"/admin/accounts/user/{alice.pk}/change/"
    data = _change_form_data(org_admin, url)
    del data["is_active"]  # the box unticked
    with (
        listening((signals.user_deactivated, deactivated), (signals.auth_tokens_revoked, revoked)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = org_admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    alice.refresh_from_db()
    assert alice.is_active is False and alice.deactivated_at is not None
    assert sorted(sent) == [f"deactivated {alice.pk}", f"revoked {alice.pk} x{sessions}"]  # sockets close on these
    assert not AuthToken.objects.filter(user=alice).exists()
    assert not Device.objects.filter(user=alice).exists()
    assert api(token=token).get("/api/v1/me").status_code == 401
    actions = set(AuditEntry.objects.filter(target_id=alice.pk).values_list("action", flat=True))
    assert {"user.deactivated", "admin_site.changed"} <= actions

    # Ticked again: active, no deactivation date; the old session stays ended.
    data["is_active"] = "on"
    assert org_admin.post(url, data).status_code == 302
    alice.refresh_from_db()
    assert alice.is_active is True and alice.deactivated_at is None
    assert api(token=token).get("/api/v1/me").status_code == 401


def test_memberships_changed_in_the_admin_site_reach_open_sockets(org_admin, people, orgs, django_capture_on_commit_callbacks):
    from accounts import signals
    from accounts.models import Membership

    alice = people["alice"]
    stores = GroupFactory(organization=orgs[0], name="Stores")
    changes: list[tuple] = []

    def changed(sender, *, user_id, group_id, joined, **kwargs):
        changes.append((user_id, group_id, joined))

    url = f"/admin/accounts/user/{alice.pk}/change/"
    data = _change_form_data(org_admin, url)
    prefix = next(key for key in data if key.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data.update({f"{prefix}-{index}-group": stores.pk, f"{prefix}-{index}-role": "member", f"{prefix}-{index}-user": alice.pk})
    with listening((signals.membership_changed, changed)), django_capture_on_commit_callbacks(execute=True):
        response = org_admin.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Membership.objects.filter(user=alice, group=stores).exists()
    assert changes == [(alice.pk, stores.pk, True)]


def test_an_admin_cannot_deactivate_or_demote_themselves_in_the_admin_site(org_admin, people):
    admin = people["admin_a"]
    url = f"/admin/accounts/user/{admin.pk}/change/"
    data = _change_form_data(org_admin, url)
    data.pop("is_active", None)
    data["role"] = "employee"
    org_admin.post(url, data)
    admin.refresh_from_db()
    assert admin.is_active is True and admin.role == "admin"

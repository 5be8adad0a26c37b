"""Signing in to the admin site through its login form, as a person in a browser does.

Organisation admins are not Django staff (seed_demo and create_organization make none): their
role opens the admin site. The printed demo admin login was refused ("staff account") before.
"""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from moderation.models import ReportCase
from tests.factories import AdminFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


def sign_in(email: str, password: str) -> tuple[Client, object]:
    """GET the form, POST it back with its CSRF token (the checks on, as in a browser)."""
    client = Client(enforce_csrf_checks=True)
    form = client.get("/admin/login/")
    assert form.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode()).group(1)
    response = client.post("/admin/login/", {"csrfmiddlewaretoken": token, "username": email, "password": password, "next": "/admin/"})
    return client, response


def demo_logins() -> list[tuple[str, str, str]]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return [tuple(line.split()[1:4]) for line in out.getvalue().splitlines() if line.startswith("login: ")]


def test_every_printed_demo_admin_login_opens_the_admin_site_and_the_moderation_queue():
    logins = demo_logins()
    admins = [(email, password) for email, password, role in logins if role == "admin"]
    assert admins
    # seed_demo reports one post: the queue has a row to open.
    case = ReportCase.objects.get()
    for email, password in admins:
        client, response = sign_in(email, password)
        assert response.status_code == 302 and response["Location"] == "/admin/", response.content.decode()[:2000]
        assert client.get("/admin/").status_code == 200
        queue = client.get("/admin/moderation/reportcase/")
        assert queue.status_code == 200
        assert f"/admin/moderation/reportcase/{case.pk}/change/" in queue.content.decode()
        assert client.get(f"/admin/moderation/reportcase/{case.pk}/change/").status_code == 200
        assert client.get("/admin/moderation/mute/").status_code == 200


def test_printed_employee_and_leader_logins_are_refused():
    refused = [(email, password) for email, password, role in demo_logins() if role in ("employee", "leader")]
    assert len(refused) == 2
    for email, password in refused:
        client, response = sign_in(email, password)
        assert response.status_code == 200  # the form again
        assert "organisation admin" in response.content.decode()
        assert client.get("/admin/").status_code == 302


def test_the_admin_of_a_new_organisation_signs_in():
    call_command(
        "create_organization",
        "--name",
        "Hotel Aurora",
        "--admin-email",
        "boss@aurora.example",
        "--admin-password",
        "a-long-secret-phrase",
        stdout=StringIO(),
    )
    client, response = sign_in("Boss@Aurora.example", "a-long-secret-phrase")  # as typed, capitals and all
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_operators_sign_in_and_a_deactivated_admin_does_not():
    User.objects.create_superuser("root@example.com", "pw-root-123", name="Root")
    assert sign_in("root@example.com", "pw-root-123")[1].status_code == 302
    gone = AdminFactory(organization=OrganizationFactory(), is_active=False)
    gone.set_password("pw-gone-123")
    gone.save()
    assert sign_in(gone.email, "pw-gone-123")[1].status_code == 200


def test_the_admin_form_counts_against_the_api_login_lockout(api, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    admin = AdminFactory(organization=OrganizationFactory())
    admin.set_password("the-right-password")
    admin.save()
    for _ in range(3):
        assert sign_in(admin.email, "wrong")[1].status_code == 200
    _client, response = sign_in(admin.email, "the-right-password")
    assert response.status_code == 200 and "Too many failed logins" in response.content.decode()
    # One counter for both doors: the API refuses the account too.
    assert api().post("/api/v1/auth/login", {"email": admin.email, "password": "the-right-password"}, format="json").status_code == 429


def test_a_successful_admin_login_resets_the_count(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    admin = AdminFactory(organization=OrganizationFactory())
    admin.set_password("the-right-password")
    admin.save()
    for _ in range(2):
        sign_in(admin.email, "wrong")
    assert sign_in(admin.email, "the-right-password")[1].status_code == 302
    for _ in range(2):
        sign_in(admin.email, "wrong")
    assert sign_in(admin.email, "the-right-password")[1].status_code == 302

"""Passwords: change mine, forget it, and codes handed over in person (issue #22)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuthToken, LoginCode
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory, issue_token

NEW = "a brand new passphrase 2026"


def _code_from_mail() -> str:
    return re.search(r"code is ([A-Z0-9]{12})", mail.outbox[-1].body).group(1)


# --- POST /me/password ------------------------------------------------------------------------


def test_change_keeps_other_devices_by_default(api, employee):
    other = issue_token(employee)
    response = api(employee).post("/api/v1/me/password", {"current_password": DEFAULT_PASSWORD, "new_password": NEW}, format="json")
    assert response.status_code == 204, response.content
    employee.refresh_from_db()
    assert employee.check_password(NEW)
    assert api(token=other).get("/api/v1/me").status_code == 200


def test_change_can_sign_out_every_other_device_but_this_one(api, employee):
    other = issue_token(employee)
    this = issue_token(employee)
    body = {"current_password": DEFAULT_PASSWORD, "new_password": NEW, "sign_out_other_devices": True}
    assert api(token=this).post("/api/v1/me/password", body, format="json").status_code == 204
    assert api(token=other).get("/api/v1/me").status_code == 401
    assert api(token=this).get("/api/v1/me").status_code == 200
    assert AuthToken.objects.filter(user=employee).count() == 1


def test_change_needs_the_current_password_and_follows_the_validators(api, employee):
    client = api(employee)
    wrong = client.post("/api/v1/me/password", {"current_password": "nope", "new_password": NEW}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_password"
    weak = client.post("/api/v1/me/password", {"current_password": DEFAULT_PASSWORD, "new_password": "12345678"}, format="json")
    assert weak.status_code == 400 and weak.json()["error"]["fields"]["new_password"]
    employee.refresh_from_db()
    assert employee.check_password(DEFAULT_PASSWORD)


def test_guessing_the_current_password_with_a_stolen_token_is_throttled(api, employee):
    client = api(employee)
    answers = [
        client.post("/api/v1/me/password", {"current_password": f"guess {n}", "new_password": NEW}, format="json").status_code
        for n in range(7)
    ]
    assert answers[:5] == [400] * 5 and answers[5:] == [429, 429]


def test_change_needs_a_token(api, db):
    assert api().post("/api/v1/me/password", {"current_password": "x", "new_password": NEW}, format="json").status_code == 401


# --- POST /auth/password-reset and /confirm ---------------------------------------------------


def test_reset_by_email_sets_a_new_password_and_signs_out_everywhere(api, employee, django_capture_on_commit_callbacks):
    old_token = issue_token(employee)
    with django_capture_on_commit_callbacks(execute=True):
        response = api().post("/api/v1/auth/password-reset", {"email": employee.email.upper()}, format="json")
    assert (response.status_code, response.json()) == (202, {})
    assert mail.outbox[-1].to == [employee.email]
    code = _code_from_mail()
    confirmed = api().post(
        "/api/v1/auth/password-reset/confirm", {"email": employee.email, "code": code.lower(), "new_password": NEW}, format="json"
    )
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["user"]["id"] == employee.pk and confirmed.json()["token"]
    assert api(token=old_token).get("/api/v1/me").status_code == 401
    again = api().post("/api/v1/auth/password-reset/confirm", {"email": employee.email, "code": code, "new_password": NEW}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_code"  # single use
    assert api().post("/api/v1/auth/login", {"email": employee.email, "password": NEW}, format="json").status_code == 200


def test_a_reset_code_expires_after_30_minutes(api, employee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api().post("/api/v1/auth/password-reset", {"email": employee.email}, format="json")
    login_code = LoginCode.objects.get(user=employee)
    assert timedelta(minutes=29) < login_code.expires_at - login_code.created_at <= timedelta(minutes=30)
    LoginCode.objects.filter(pk=login_code.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    body = {"email": employee.email, "code": _code_from_mail(), "new_password": NEW}
    assert api().post("/api/v1/auth/password-reset/confirm", body, format="json").status_code == 400


def test_an_emailed_code_works_only_with_its_own_address(api, employee, org, django_capture_on_commit_callbacks):
    other = UserFactory(organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        api().post("/api/v1/auth/password-reset", {"email": employee.email}, format="json")
    code = _code_from_mail()
    for email in (other.email, ""):
        body = {"email": email, "code": code, "new_password": NEW}
        assert api().post("/api/v1/auth/password-reset/confirm", body, format="json").status_code == 400
    other.refresh_from_db()
    assert other.check_password(DEFAULT_PASSWORD)


def test_reset_answers_the_same_for_unknown_and_inactive_addresses(api, employee, org, django_capture_on_commit_callbacks):
    gone = UserFactory(organization=org, is_active=False)
    answers = []
    for email in (employee.email, "nobody@example.com", gone.email):
        with django_capture_on_commit_callbacks(execute=True):
            response = api().post("/api/v1/auth/password-reset", {"email": email}, format="json")
        answers.append((response.status_code, response.content))
    assert len(set(answers)) == 1 and answers[0][0] == 202
    assert [message.to for message in mail.outbox] == [[employee.email]]


def test_reset_does_the_same_work_in_the_request_for_known_and_unknown_addresses(
    api, employee, django_assert_num_queries, django_capture_on_commit_callbacks
):
    # The lookup, the code and the e-mail happen in the task after the response: the request's
    # statements (none) and its queued work (one task) are the same for every address.
    client = api()
    client.post("/api/v1/auth/password-reset", {"email": "warm-up@example.com"}, format="json")
    for email in (employee.email, "nobody@example.com"):
        with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert client.post("/api/v1/auth/password-reset", {"email": email}, format="json").status_code == 202
        assert len(callbacks) == 1


def test_reset_is_throttled_per_address_and_per_ip(api, employee, settings):
    limit = settings.PASSWORD_RESET_ADDRESS_LIMIT
    answers = [api().post("/api/v1/auth/password-reset", {"email": employee.email}, format="json").status_code for _ in range(limit + 1)]
    assert answers == [202] * limit + [429]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_reset_ip": "2/min"},
    }
    client = api()
    client.defaults["REMOTE_ADDR"] = "192.0.2.77"  # another address than the requests above
    answers = [client.post("/api/v1/auth/password-reset", {"email": f"p{n}@example.com"}, format="json").status_code for n in range(3)]
    assert answers == [202, 202, 429]


def test_guessing_codes_for_an_address_hits_its_login_lockout(api, employee, settings):
    answers = [
        api()
        .post("/api/v1/auth/password-reset/confirm", {"email": employee.email, "code": f"GUESS{n:07d}", "new_password": NEW}, format="json")
        .status_code
        for n in range(settings.LOGIN_FAILURE_LIMIT + 1)
    ]
    assert answers[-1] == 429 and set(answers[:-1]) == {400}


def test_a_new_reset_code_ends_the_previous_one(api, employee, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        api().post("/api/v1/auth/password-reset", {"email": employee.email}, format="json")
    first = _code_from_mail()
    with django_capture_on_commit_callbacks(execute=True):
        api().post("/api/v1/auth/password-reset", {"email": employee.email}, format="json")
    body = {"email": employee.email, "code": first, "new_password": NEW}
    assert api().post("/api/v1/auth/password-reset/confirm", body, format="json").status_code == 400


# --- POST /users/{id}/login-code (staff without e-mail) -----------------------------------------


@pytest.fixture
def no_email(org, group):
    person = UserFactory(organization=org, email=None, employee_number="4711")
    MembershipFactory(group=group, user=person)
    return person


def test_an_admin_issues_a_code_and_the_person_sets_a_password_and_logs_in_by_number(api, admin_user, no_email, org):
    response = api(admin_user).post(f"/api/v1/users/{no_email.pk}/login-code")
    assert response.status_code == 201, response.content
    code, expires_at = response.json()["code"], response.json()["expires_at"]
    login_code = LoginCode.objects.get(user=no_email)
    assert timedelta(days=13, hours=23) < login_code.expires_at - login_code.created_at <= timedelta(days=14)
    assert expires_at
    confirmed = api().post("/api/v1/auth/password-reset/confirm", {"code": code, "new_password": NEW}, format="json")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["user"]["id"] == no_email.pk
    login = api().post("/api/v1/auth/login", {"employee_number": "4711", "organization_slug": org.slug, "password": NEW}, format="json")
    assert login.status_code == 200 and login.json()["user"]["id"] == no_email.pk
    assert api().post("/api/v1/auth/password-reset/confirm", {"code": code, "new_password": NEW}, format="json").status_code == 400


def test_a_manager_of_the_persons_group_issues_codes_other_leaders_and_employees_do_not(api, org, group, no_email, leader, employee):
    assert api(leader).post(f"/api/v1/users/{no_email.pk}/login-code").status_code == 403
    assert api(employee).post(f"/api/v1/users/{no_email.pk}/login-code").status_code == 403
    MembershipFactory(group=group, user=leader, role="manager")
    assert api(leader).post(f"/api/v1/users/{no_email.pk}/login-code").status_code == 201


def test_login_by_employee_number_needs_the_right_organisation_and_counts_against_a_lockout(api, org, other_org, no_email, settings):
    no_email.set_password(NEW)
    no_email.save()
    wrong_org = {"employee_number": "4711", "organization_slug": other_org.slug, "password": NEW}
    assert api().post("/api/v1/auth/login", wrong_org, format="json").status_code == 401
    attempts = [
        api()
        .post("/api/v1/auth/login", {"employee_number": "4711", "organization_slug": org.slug, "password": "wrong"}, format="json")
        .status_code
        for _ in range(settings.LOGIN_FAILURE_LIMIT + 1)
    ]
    assert attempts[-1] == 429
    missing = api().post("/api/v1/auth/login", {"employee_number": "4711", "password": NEW}, format="json")
    assert missing.status_code == 400 and missing.json()["error"]["fields"]["email"]


def test_a_code_only_invitation_is_shown_to_the_admin_and_activates_without_email(api, admin_user, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post("/api/v1/invitations", {"employee_number": "900", "name": "Piet"}, format="json")
    assert response.status_code == 201, response.content
    assert mail.outbox == []
    activated = api().post("/api/v1/auth/activate", {"code": response.json()["code"], "password": NEW}, format="json")
    assert activated.status_code == 201, activated.content
    user = activated.json()["user"]
    assert user["email"] is None and user["name"] == "Piet"
    login = api().post("/api/v1/auth/login", {"employee_number": "900", "organization_slug": org.slug, "password": NEW}, format="json")
    assert login.status_code == 200
    again = api(admin_user).post("/api/v1/invitations", {"employee_number": "900", "name": "Piet 2"}, format="json")
    assert again.status_code == 409


def test_every_demo_person_has_a_valid_address_and_signs_in(api, db):
    from accounts import demo
    from accounts.emails import validate_canonical_email

    context = demo.seed()
    zoe = next(person for person in context.everyone if person.name.startswith("Zoë"))
    assert zoe.email == "zoe.35@demo.example"
    for person in context.everyone:
        assert validate_canonical_email(person.email) == person.email
    response = api().post("/api/v1/auth/login", {"email": zoe.email, "password": demo.DEMO_PASSWORD}, format="json")
    assert response.status_code == 200

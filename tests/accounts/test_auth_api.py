from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import AuthToken
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory


def login(client, email, password=DEFAULT_PASSWORD, device_name="Pixel 8"):
    return client.post("/api/v1/auth/login", {"email": email, "password": password, "device_name": device_name}, format="json")


def bearer(api, token):
    return api(token=token)


def test_login_returns_token_expiry_and_profile(api, employee):
    response = login(api(), employee.email.upper())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token"] and body["expires_at"]
    assert body["user"]["id"] == employee.pk
    assert body["user"]["organization"] == {
        "id": employee.organization_id,
        "name": employee.organization.name,
        "timezone": "Europe/Amsterdam",
        "slug": employee.organization.slug,
        "settings": {
            "leaderboard_enabled": False,
            "kudos_value_required": False,
            "survey_min_group_size": 5,
            "voice_first_response_hours": 72,
        },
    }
    token = AuthToken.objects.get(user=employee)
    assert token.device_name == "Pixel 8"
    assert token.key_hash != body["token"]  # only the hash is stored


def test_wrong_password_and_unknown_email_look_the_same(api, employee):
    wrong = login(api(), employee.email, "not the password")
    unknown = login(api(), "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["code"] == unknown.json()["error"]["code"] == "invalid_credentials"


def test_deactivated_user_login_is_refused_like_a_wrong_password(api, employee):
    employee.is_active = False
    employee.save()
    response = login(api(), employee.email)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_credentials"


def test_one_token_per_device_and_logout_ends_only_that_device(api, employee):
    phone = login(api(), employee.email, device_name="phone").json()["token"]
    tablet = login(api(), employee.email, device_name="tablet").json()["token"]
    assert phone != tablet
    assert bearer(api, phone).post("/api/v1/auth/logout").status_code == 204
    assert bearer(api, phone).get("/api/v1/me").status_code == 401
    assert bearer(api, tablet).get("/api/v1/me").status_code == 200
    assert AuthToken.objects.filter(user=employee).count() == 1


def test_expired_token_is_401(api, employee):
    token = login(api(), employee.email).json()["token"]
    AuthToken.objects.filter(user=employee).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = bearer(api, token).get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_malformed_authorization_header_is_401(api, employee):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token abc")
    assert client.get("/api/v1/me").status_code == 401


def test_deactivated_user_is_401_on_the_next_request(api, employee, admin_user):
    token = login(api(), employee.email).json()["token"]
    assert bearer(api, token).get("/api/v1/me").status_code == 200
    assert api(admin_user).post(f"/api/v1/users/{employee.pk}/deactivate").status_code == 204
    assert bearer(api, token).get("/api/v1/me").status_code == 401
    assert not AuthToken.objects.filter(user=employee).exists()


def test_inactive_user_with_a_surviving_token_is_401(api, employee):
    client = api(employee)
    employee.is_active = False
    employee.save()
    assert client.get("/api/v1/me").status_code == 401


def test_login_is_throttled_per_account_after_five_wrong_passwords(api, employee):
    for _ in range(5):
        assert login(api(), employee.email, "wrong").status_code == 401
    # Even the right password is refused until the window passes: that is the point.
    response = login(api(), employee.email)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "throttled"
    # Another account is not affected.
    other = UserFactory(organization=employee.organization)
    assert login(api(), other.email).status_code == 200


def test_successful_login_resets_the_failure_count(api, employee):
    for _ in range(4):
        login(api(), employee.email, "wrong")
    assert login(api(), employee.email).status_code == 200
    for _ in range(4):
        login(api(), employee.email, "wrong")
    assert login(api(), employee.email).status_code == 200


def test_login_is_throttled_per_ip(api, employee, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "login_ip": "3/min"},
    }
    codes = [login(api(), f"someone{i}@example.com", "x").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_me_profile_shape_and_update(api, employee, group):
    from tests.factories import MembershipFactory

    MembershipFactory(group=group, user=employee, role="manager")
    client = api(employee)
    body = client.get("/api/v1/me").json()
    assert set(body) >= {"id", "name", "email", "role", "organization", "groups", "language", "avatar"}
    assert body["groups"] == [{"id": group.pk, "name": group.name, "kind": "team", "role": "manager"}]
    response = client.patch("/api/v1/me", {"name": "New Name", "language": "nl", "timezone": "Europe/London"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "New Name"
    assert response.json()["language"] == "nl"
    assert client.patch("/api/v1/me", {"timezone": "Mars/Olympus"}, format="json").status_code == 400


def test_me_ignores_role_and_organization_in_patch(api, employee, other_org):
    client = api(employee)
    client.patch("/api/v1/me", {"role": "admin", "organization": other_org.pk, "email": "x@evil.example"}, format="json")
    employee.refresh_from_db()
    assert employee.role == "employee"
    assert employee.organization_id != other_org.pk
    assert employee.email != "x@evil.example"


def test_saved_language_picks_messages_without_accept_language(api, employee):
    employee.language = "nl"
    employee.save()
    client = api(employee)
    assert client.get("/api/v1/me")["Content-Language"] == "nl"
    assert api(employee, language="en").get("/api/v1/me")["Content-Language"] == "en"


@pytest.mark.parametrize("path", ["/api/v1/auth/logout", "/api/v1/me", "/api/v1/users"])
def test_private_routes_need_a_token(api, db, path):
    assert api().get(path).status_code in (401, 405)


def test_admin_cannot_be_created_for_other_org_via_token_of_other_org(api, other_org, employee):
    outsider = AdminFactory(organization=other_org)
    response = api(outsider).get(f"/api/v1/users/{employee.pk}")
    assert response.status_code == 404

"""POST /devices (upsert by token), DELETE /devices/{id}; logout and deactivation remove devices."""

from __future__ import annotations

import pytest

from notifications.models import Device
from tests.factories import AdminFactory, UserFactory, issue_token
from tests.notifications.push_factories import DeviceFactory

pytestmark = pytest.mark.django_db

TOKEN = "fcm-" + "a" * 150


def test_register_creates_then_refreshes(api, employee):
    client = api(employee)

    first = client.post("/api/v1/devices", {"token": TOKEN, "platform": "ios", "locale": "nl-NL", "app_version": "3.2.0"})
    again = client.post("/api/v1/devices", {"token": TOKEN, "platform": "ios", "locale": "en-GB"})

    assert first.status_code == 201, first.content
    assert set(first.json()) == {"id", "platform", "locale", "app_version", "created_at", "last_seen_at"}
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    device = Device.objects.get()
    assert (device.user, device.locale, device.platform) == (employee, "en-GB", "ios")
    assert device.last_seen_at >= device.created_at


def test_a_token_moving_to_another_person_moves_and_never_duplicates(api, employee, org):
    colleague = UserFactory(organization=org)
    api(employee).post("/api/v1/devices", {"token": TOKEN, "platform": "android"})

    response = api(colleague).post("/api/v1/devices", {"token": TOKEN, "platform": "android"})

    assert response.status_code == 200
    device = Device.objects.get()
    assert device.user == colleague
    assert device.auth_token.user == colleague


def test_a_refreshed_token_replaces_the_sessions_old_one(api, employee):
    client = api(employee)
    client.post("/api/v1/devices", {"token": TOKEN, "platform": "android"})

    client.post("/api/v1/devices", {"token": TOKEN + "-new", "platform": "android"})

    assert list(Device.objects.values_list("token", flat=True)) == [TOKEN + "-new"]


def test_each_session_keeps_its_own_device(api, employee):
    api(employee).post("/api/v1/devices", {"token": TOKEN, "platform": "android"})
    api(employee).post("/api/v1/devices", {"token": TOKEN + "-tablet", "platform": "android"})

    assert Device.objects.filter(user=employee).count() == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({"platform": "android"}, "token"),
        ({"token": "", "platform": "android"}, "token"),
        ({"token": TOKEN, "platform": "symbian"}, "platform"),
        ({"token": "x" * 513, "platform": "android"}, "token"),
    ],
)
def test_register_validates(api, employee, body, field):
    response = api(employee).post("/api/v1/devices", body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_register_needs_a_login(api):
    assert api().post("/api/v1/devices", {"token": TOKEN, "platform": "android"}).status_code == 401


def test_delete_own_device(api, employee):
    device = DeviceFactory(user=employee)

    assert api(employee).delete(f"/api/v1/devices/{device.pk}").status_code == 204
    assert not Device.objects.exists()


def test_someone_elses_device_is_not_found(api, employee, org, other_org):
    colleague_device = DeviceFactory(user=UserFactory(organization=org))
    foreign_device = DeviceFactory(user=UserFactory(organization=other_org))
    admin = AdminFactory(organization=other_org)

    assert api(employee).delete(f"/api/v1/devices/{colleague_device.pk}").status_code == 404
    assert api(admin).delete(f"/api/v1/devices/{colleague_device.pk}").status_code == 404
    assert api(employee).delete(f"/api/v1/devices/{foreign_device.pk}").status_code == 404
    assert Device.objects.count() == 2


def test_logout_removes_that_sessions_device_only(api, employee, django_capture_on_commit_callbacks):
    phone = api(employee)
    phone.post("/api/v1/devices", {"token": TOKEN, "platform": "android"})
    tablet = api(employee)
    tablet.post("/api/v1/devices", {"token": TOKEN + "-tablet", "platform": "ios"})

    with django_capture_on_commit_callbacks(execute=True):
        assert phone.post("/api/v1/auth/logout").status_code == 204

    assert list(Device.objects.values_list("token", flat=True)) == [TOKEN + "-tablet"]


def test_deactivation_removes_every_device(api, admin_user, employee, org, django_capture_on_commit_callbacks):
    DeviceFactory(user=employee)
    DeviceFactory(user=employee)
    kept = DeviceFactory(user=UserFactory(organization=org))

    with django_capture_on_commit_callbacks(execute=True):
        assert api(admin_user).post(f"/api/v1/users/{employee.pk}/deactivate").status_code == 204

    assert list(Device.objects.all()) == [kept]


def test_revocation_signal_removes_devices_even_without_the_cascade(employee):
    from accounts import signals
    from accounts.models import AuthToken

    device = DeviceFactory(user=employee)
    other = DeviceFactory(user=employee)

    signals.auth_tokens_revoked.send(sender=AuthToken, user_id=employee.pk, token_ids=[device.auth_token_id])

    assert list(Device.objects.all()) == [other]


def test_device_session_is_the_calling_token(api, employee):
    raw = issue_token(employee, device_name="locker phone")
    api(token=raw).post("/api/v1/devices", {"token": TOKEN, "platform": "android"})

    assert Device.objects.get().auth_token.device_name == "locker phone"

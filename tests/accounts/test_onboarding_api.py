import re
from datetime import timedelta

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Invitation, Membership, User
from tests.factories import GroupFactory, UserFactory


def invite(client, **body):
    payload = {"email": "new.person@example.com", "name": "New Person", "role": "employee", "group_ids": []}
    payload.update(body)
    return client.post("/api/v1/invitations", payload, format="json")


def test_admin_invites_and_the_code_is_mailed_after_commit(api, admin_user, group, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(api(admin_user), group_ids=[group.pk])
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "code", "expires_at"}
    assert len(mail.outbox) == 1
    assert body["code"] in mail.outbox[0].body
    assert mail.outbox[0].to == ["new.person@example.com"]
    assert Invitation.objects.get().code_hash != body["code"]


def test_only_admins_invite(api, employee, leader):
    assert invite(api(employee)).status_code == 403
    assert invite(api(leader)).status_code == 403


def test_invite_existing_email_is_409(api, admin_user, employee):
    response = invite(api(admin_user), email=employee.email.upper())
    assert response.status_code == 409
    assert response.json()["error"]["fields"]["email"]


def test_invite_with_another_organisations_group_is_400_on_the_field(api, admin_user, other_org):
    foreign = GroupFactory(organization=other_org)
    response = invite(api(admin_user), group_ids=[foreign.pk])
    assert response.status_code == 400
    assert "group_ids" in response.json()["error"]["fields"]


def test_activation_creates_the_user_in_groups_and_logs_in(api, admin_user, group):
    code = invite(api(admin_user), group_ids=[group.pk], role="leader").json()["code"]
    response = api().post(
        "/api/v1/auth/activate", {"code": code.lower(), "password": "a-long-secret-phrase", "name": "Nieuwe Naam"}, format="json"
    )
    assert response.status_code == 201, response.content
    user = User.objects.get(email="new.person@example.com")
    assert user.organization_id == admin_user.organization_id
    assert user.role == "leader"
    assert user.name == "Nieuwe Naam"
    assert list(Membership.objects.filter(user=user).values_list("group_id", flat=True)) == [group.pk]
    token = response.json()["token"]
    assert api(token=token).get("/api/v1/me").json()["id"] == user.pk


def test_invitation_is_single_use(api, admin_user):
    code = invite(api(admin_user)).json()["code"]
    first = api().post("/api/v1/auth/activate", {"code": code, "password": "a-long-secret-phrase"}, format="json")
    second = api().post("/api/v1/auth/activate", {"code": code, "password": "another-long-phrase"}, format="json")
    assert first.status_code == 201
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "invalid_code"
    assert User.objects.filter(email="new.person@example.com").count() == 1


def test_expired_invitation_is_refused(api, admin_user):
    code = invite(api(admin_user)).json()["code"]
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = api().post("/api/v1/auth/activate", {"code": code, "password": "a-long-secret-phrase"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_code"


def test_weak_password_is_refused_and_the_code_stays_valid(api, admin_user):
    code = invite(api(admin_user)).json()["code"]
    weak = api().post("/api/v1/auth/activate", {"code": code, "password": "123"}, format="json")
    assert weak.status_code == 400
    assert "password" in weak.json()["error"]["fields"]
    assert api().post("/api/v1/auth/activate", {"code": code, "password": "a-long-secret-phrase"}, format="json").status_code == 201


def csv_upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("staff.csv", text.encode(), content_type="text/csv")


def test_csv_import_invites_everyone(api, admin_user, group, django_capture_on_commit_callbacks):
    GroupFactory(organization=admin_user.organization, name="Kassa")
    text = f"email,name,role,groups\nann@example.com,Ann,employee,{group.name};kassa\nbob@example.com,Bob,leader,\n"
    with django_capture_on_commit_callbacks(execute=True):
        response = api(admin_user).post("/api/v1/users/import", {"file": csv_upload(text)}, format="multipart")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["invited"] == 2
    assert [row["status"] for row in body["rows"]] == ["invited", "invited"]
    assert Invitation.objects.get(email="ann@example.com").groups.count() == 2
    assert len(mail.outbox) == 2


def test_csv_import_is_all_or_nothing_with_a_report_per_row(api, admin_user, employee):
    text = (
        "email,name,role,groups\n"
        "good@example.com,Good,employee,\n"
        f"{employee.email},Taken,employee,\n"
        "not-an-email,Bad,boss,Nowhere\n"
        "good@example.com,Twice,employee,\n"
    )
    response = api(admin_user).post("/api/v1/users/import", {"file": csv_upload(text)}, format="multipart")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "import_invalid"
    rows = error["fields"]["rows"]
    assert [row["row"] for row in rows] == [2, 3, 4, 5]
    assert rows[0]["status"] == "invited" and rows[0]["errors"] == {}
    assert "email" in rows[1]["errors"]
    assert set(rows[2]["errors"]) == {"email", "role", "groups"}
    assert "email" in rows[3]["errors"]
    assert not Invitation.objects.exists()


def test_csv_import_needs_columns_and_admin(api, admin_user, employee):
    assert api(admin_user).post("/api/v1/users/import", {"file": csv_upload("mail,naam\n")}, format="multipart").status_code == 400
    assert api(employee).post("/api/v1/users/import", {"file": csv_upload("email,name\n")}, format="multipart").status_code == 403


def test_code_format_is_easy_to_type(api, admin_user):
    code = invite(api(admin_user)).json()["code"]
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{12}", code)


def test_directory_search_and_email_privacy(api, employee, admin_user):
    UserFactory(organization=employee.organization, name="Zoë Zwart", email="zoe@example.com")
    UserFactory(name="Zoë Elsewhere")  # another organisation
    results = api(employee).get("/api/v1/users", {"search": "zoë"}).json()["results"]
    assert [user["name"] for user in results] == ["Zoë Zwart"]
    assert results[0]["email"] is None
    assert api(admin_user).get("/api/v1/users", {"search": "zoë"}).json()["results"][0]["email"] == "zoe@example.com"

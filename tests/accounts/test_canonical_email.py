"""One canonical form of an e-mail address for lookup, lockout, throttles, invitations and imports
(issue #25 item 1: `vıctim@` logged in past the lockout, `admın@` signed in as the admin).

Each spelling below either *is* the account (NFKC + casefold make it the same address, and it
shares the account's lockout) or is *nobody* (401 whatever the password, and it cannot be used
to invite a look-alike of an existing colleague).
"""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.emails import canonical_email
from accounts.models import Invitation, User
from tests.factories import DEFAULT_PASSWORD, AdminFactory, UserFactory

# (spelling of "victim@example.com", is it the same account?)
SPELLINGS = [
    ("victim@example.com", True),
    ("Victim@Example.COM", True),
    ("VICTIM@EXAMPLE.COM", True),
    ("  victim@example.com ", True),
    ("vıctim@example.com", False),  # ı U+0131 dotless i: upper-cases to I in PostgreSQL, is not i
    ("VİCTIM@example.com", False),  # İ U+0130 dotted capital I: casefolds to i + combining dot
    ("victım@example.com", False),
    ("\uff56\uff49\uff43\uff54\uff49\uff4d@example.com", True),  # fullwidth letters: NFKC folds them
    ("victim@\uff45xample.com", True),
    ("vict\u0456m@example.com", False),  # Cyrillic і U+0456: a different letter
    ("victim\u200b@example.com", False),  # zero-width space: not removed, not the address
]
# (spelling of "sam.k@example.com", is it the same account?)
FOLDED = [
    ("ſam.k@example.com", True),  # ſ U+017F long s: NFKC → s
    ("sam.\u212a@example.com", True),  # K U+212A Kelvin sign: NFKC → K
    ("SAM.K@EXAMPLE.COM", True),
    ("ѕam.k@example.com", False),  # Cyrillic ѕ U+0455
]


def _login(api, email: str, password: str = DEFAULT_PASSWORD):
    return api().post("/api/v1/auth/login", {"email": email, "password": password}, format="json")


@pytest.mark.parametrize(("spelling", "same"), SPELLINGS + FOLDED)
def test_each_spelling_is_the_account_or_nobody(api, org, spelling, same):
    victim = UserFactory(organization=org, email="victim@example.com")
    sam = UserFactory(organization=org, email="sam.k@example.com")
    target = victim if (spelling, same) in SPELLINGS else sam
    response = _login(api, spelling)
    if same:
        assert response.status_code == 200, response.content
        assert response.json()["user"]["id"] == target.pk
    else:
        assert response.status_code == 401, response.content
        assert response.json()["error"]["code"] == "invalid_credentials"


@pytest.mark.parametrize(("spelling", "same"), SPELLINGS + FOLDED)
def test_a_locked_account_stays_locked_under_every_spelling(api, org, spelling, same, settings):
    victim = UserFactory(organization=org, email="victim@example.com")
    UserFactory(organization=org, email="sam.k@example.com")
    address = "victim@example.com" if (spelling, same) in SPELLINGS else "sam.k@example.com"
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert _login(api, address, "wrong password").status_code == 401
    response = _login(api, spelling)
    if same:
        # The same account under another spelling: still locked, right password or not.
        assert response.status_code == 429, response.content
    else:
        # A different spelling reaches nobody: never the victim's account, locked or not.
        assert response.status_code == 401
    assert not victim.auth_tokens.exists()


def test_spellings_of_one_account_share_its_five_tries(api, org, settings):
    UserFactory(organization=org, email="sam.k@example.com")
    spellings = ["sam.k@example.com", "ſam.k@example.com", "sam.\u212a@example.com", "SAM.K@example.com", "\uff53am.k@example.com"]
    answers = [_login(api, spelling, "wrong password").status_code for spelling in spellings + spellings]
    assert answers[: settings.LOGIN_FAILURE_LIMIT] == [401] * settings.LOGIN_FAILURE_LIMIT
    assert set(answers[settings.LOGIN_FAILURE_LIMIT :]) == {429}


def test_admin_with_a_dotless_i_does_not_sign_in_as_admin(api, org):
    admin = AdminFactory(organization=org, email="admin@example.com")
    assert _login(api, "admın@example.com").status_code == 401
    assert _login(api, "ADMIN@example.com").json()["user"]["id"] == admin.pk


def test_addresses_are_stored_canonical_whoever_writes_them(org):
    user = User.objects.create_user("Ｍixed.Case@Example.COM", "x-secret-phrase-1", organization=org, name="M")
    assert user.email == "mixed.case@example.com"
    factory_made = UserFactory(organization=org, email="Other@EXAMPLE.com")
    factory_made.refresh_from_db()
    assert factory_made.email == "other@example.com"
    assert User.objects.get_by_natural_key("OTHER@example.COM") == factory_made


def test_an_invitation_to_another_spelling_of_a_colleague_is_a_conflict(api, org, admin_user):
    UserFactory(organization=org, email="sam.k@example.com")
    response = api(admin_user).post("/api/v1/invitations", {"email": "SAM.\u212a@example.com", "name": "Sam"}, format="json")
    assert response.status_code == 409, response.content
    invited = api(admin_user).post("/api/v1/invitations", {"email": "New.Person@Example.com", "name": "N"}, format="json")
    assert invited.status_code == 201
    assert Invitation.objects.get(pk=invited.json()["id"]).email == "new.person@example.com"


def test_an_import_row_in_another_spelling_of_a_colleague_or_another_row_is_refused(api, org, admin_user):
    UserFactory(organization=org, email="sam.k@example.com")
    csv = "email,name\nſam.k@example.com,Sam\nNEW@example.com,A\nnew@ｅxample.com,B\n"
    upload = SimpleUploadedFile("staff.csv", csv.encode(), content_type="text/csv")
    response = api(admin_user).post("/api/v1/users/import", {"file": upload}, format="multipart")
    assert response.status_code == 400
    rows = response.json()["error"]["fields"]["rows"]
    assert rows[0]["errors"]["email"] and rows[2]["errors"]["email"] and not rows[1]["errors"]
    assert [row["email"] for row in rows] == ["sam.k@example.com", "new@example.com", "new@example.com"]


def test_password_reset_throttle_counts_every_spelling_of_an_address_together(api, org, settings):
    settings.PASSWORD_RESET_ADDRESS_LIMIT = 2
    UserFactory(organization=org, email="sam.k@example.com")
    answers = [
        api().post("/api/v1/auth/password-reset", {"email": spelling}, format="json").status_code
        for spelling in ("sam.k@example.com", "ſam.k@example.com", "SAM.\u212a@example.com")
    ]
    assert answers == [202, 202, 429]


def test_the_canonical_form():
    assert canonical_email(" Straße@Example.de ") == "strasse@example.de"
    assert canonical_email("ｆｕｌｌ@ｗｉｄｔｈ.ｎｌ") == "full@width.nl"
    assert canonical_email("ſ\u212a@x.nl") == "sk@x.nl"
    assert canonical_email("admın@x.nl") != canonical_email("admin@x.nl")
    assert canonical_email(None) == ""


def test_the_data_migration_makes_existing_rows_canonical_and_keeps_the_owner_of_a_collision(org, capsys):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0005_canonical_email_data")
    older = UserFactory(organization=org, email="placeholder-1@example.com")
    newer = UserFactory(organization=org, email="placeholder-2@example.com")
    plain = UserFactory(organization=org, email="placeholder-3@example.com")
    # Rows as the old code left them (lower() only), written past save().
    User.objects.filter(pk=older.pk).update(email="ſam@example.com")
    User.objects.filter(pk=newer.pk).update(email="sam@ｅxample.com")
    User.objects.filter(pk=plain.pk).update(email="\uff4aan@example.com")
    migration.forwards(apps, None)
    emails = dict(User.objects.filter(pk__in=[older.pk, newer.pk, plain.pk]).values_list("pk", "email"))
    assert emails[older.pk] == "sam@example.com"
    assert emails[newer.pk] == "sam@ｅxample.com"  # kept, reported, cannot sign in until fixed
    assert emails[plain.pk] == "jan@example.com"
    assert f"user {newer.pk} keeps" in capsys.readouterr().out


@pytest.mark.parametrize("address", ["admın@example.com", "ADMİN@example.com", "zoë@example.com", "adm\u0456n@example.com"])
def test_a_look_alike_address_is_not_a_valid_address_to_invite(api, admin_user, address):
    response = api(admin_user).post("/api/v1/invitations", {"email": address, "name": "Look-alike"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["email"]

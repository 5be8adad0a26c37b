"""The admin site as an organisation admin reads it: their language, pages not JSON, lists that fit a screen."""

from __future__ import annotations

import logging

import pytest
from django.apps import apps
from django.test import Client, RequestFactory
from django.utils.functional import Promise

from accounts.models import User
from moderation import services as moderation_services
from server.views import handler403
from tests.factories import AdminFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.feed.factories import PostFactory
from tests.recognition.factories import KudosFactory

pytestmark = pytest.mark.django_db

OUR_APPS = ("accounts", "feed", "media", "notifications", "recognition", "moderation", "server")


def logged_in(user, **headers) -> Client:
    client = Client(headers=headers)
    client.force_login(user)
    return client


@pytest.fixture
def organization():
    return OrganizationFactory(name="Alpha Stores", default_language="nl")


@pytest.fixture
def admin(organization):
    return AdminFactory(organization=organization, name="Ada Admin", language="en")


# --- Language ---------------------------------------------------------------------------------


def test_a_dutch_admin_gets_the_admin_site_in_dutch_whatever_the_browser_says(organization):
    dutch = AdminFactory(organization=organization, language="nl")
    page = logged_in(dutch, accept_language="en").get("/admin/").content.decode()
    assert "Jouw organisatie" in page and "Your organisation" not in page
    assert "Organisaties" in page and "Personen" in page and "Moderatiewachtrij" in page


def test_the_saved_language_wins_and_without_one_the_browser_decides(organization, admin):
    assert "Your organisation" in logged_in(admin, accept_language="nl").get("/admin/").content.decode()
    undecided = AdminFactory(organization=organization, language="")
    assert "Jouw organisatie" in logged_in(undecided, accept_language="nl").get("/admin/").content.decode()
    assert "Your organisation" in logged_in(undecided, accept_language="en").get("/admin/").content.decode()
    # No usable header: the organisation's language.
    assert "Jouw organisatie" in logged_in(undecided, accept_language="fr").get("/admin/").content.decode()


def test_the_login_page_follows_the_browser():
    assert "Wachtwoord" in Client(headers={"accept_language": "nl"}).get("/admin/login/").content.decode()


def test_every_model_names_itself_in_both_languages():
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS:
            continue
        options = model._meta.original_attrs
        for option in ("verbose_name", "verbose_name_plural"):
            assert isinstance(options.get(option), Promise), f"{model._meta.label} has no translatable {option}"


def test_organisations_spelled_one_way_and_media_not_medias(admin):
    page = logged_in(admin).get("/admin/").content.decode()
    assert "Organisations" in page and "Organizations" not in page
    assert ">Media<" in page and "Medias" not in page
    assert "Moderation queue" in page and "People" in page


def test_column_headers_are_translated(organization):
    dutch = AdminFactory(organization=organization, language="nl")
    PostFactory(author=dutch)
    page = logged_in(dutch).get("/admin/feed/post/").content.decode()
    assert "Auteur" in page and "Gepubliceerd" in page and "Tekst" in page and "Published" not in page


# --- Refused pages are pages --------------------------------------------------------------------


def test_a_refused_admin_page_is_an_html_page_without_a_traceback_in_the_log(admin, caplog):
    person = UserFactory(organization=admin.organization)
    client = logged_in(admin)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        for url in ("/admin/feed/post/add/", f"/admin/accounts/user/{person.pk}/password/", "/admin/notifications/outboxevent/"):
            response = client.get(url)
            assert response.status_code == 403, url
            assert response["Content-Type"].startswith("text/html"), url
            page = response.content.decode()
            assert "Not allowed" in page and "You are not allowed to open this page." in page and '"error"' not in page
    forbidden = [record for record in caplog.records if record.name == "django.request"]
    assert len(forbidden) == 3 and all(record.levelno == logging.WARNING for record in forbidden)
    assert all(record.exc_info is None for record in forbidden)
    assert "Traceback" not in caplog.text


def test_the_refused_page_speaks_the_admins_language(organization):
    dutch = AdminFactory(organization=organization, language="nl")
    page = logged_in(dutch).get("/admin/feed/post/add/").content.decode()
    assert "Niet toegestaan" in page and "Je mag deze pagina niet openen." in page


def test_an_expired_admin_form_is_a_page_and_the_api_keeps_its_envelope():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "a@example.com", "password": "x"})
    assert response.status_code == 403 and response["Content-Type"].startswith("text/html")
    assert "The form has expired" in response.content.decode()
    api_response = handler403(RequestFactory().get("/api/v1/posts"))
    assert api_response.status_code == 403 and api_response["Content-Type"] == "application/json"
    assert b'"not_allowed"' in api_response.content


# --- List pages at 1280 pixels -----------------------------------------------------------------------


def test_the_post_list_names_people_and_mentions_and_shortens_bodies(admin, organization, other_org):
    colleague = UserFactory(organization=organization, name="Sanne de Vries", email="sanne@alpha.example")
    stranger = UserFactory(organization=other_org, name="Stranger Elsewhere")
    author = LeaderFactory(organization=organization, name="Lars Leider", email="lars@alpha.example")
    long_tail = "Morgen komt de nieuwe collectie binnen en we hebben alle hulp nodig bij het uitpakken " * 3
    PostFactory(author=author, body=f"@[user:{colleague.pk}] en @[user:{stranger.pk}] kunnen jullie helpen? {long_tail}")
    page = logged_in(admin).get("/admin/feed/post/").content.decode()
    assert "Lars Leider" in page and "lars@alpha.example" not in page
    assert "@Sanne de Vries en @someone kunnen jullie helpen?" in page
    assert "Stranger" not in page  # another organisation's name never shows
    assert "@[user:" not in page
    assert long_tail not in page  # shortened


def _changelist_queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url, make",
    [
        ("/admin/feed/post/", lambda org, person: PostFactory(author=person, body=f"hi @[user:{person.pk}]")),
        ("/admin/accounts/user/", lambda org, person: UserFactory(organization=org)),
        ("/admin/recognition/kudos/", lambda org, person: KudosFactory(giver=person, recipients=[UserFactory(organization=org)])),
        (
            "/admin/moderation/reportcase/",
            lambda org, person: moderation_services.report_create(
                reporter=UserFactory(organization=org), target_type="post", target_id=PostFactory(author=person).pk, reason="spam"
            ),
        ),
    ],
)
def test_list_pages_cost_the_same_queries_for_3_rows_as_for_12(admin, organization, url, make):
    person = UserFactory(organization=organization)
    client = logged_in(admin)
    for _ in range(3):
        make(organization, person)
    few = _changelist_queries(client, url)
    for _ in range(9):
        make(organization, person)
    assert _changelist_queries(client, url) == few


def test_the_moderation_queue_shows_what_was_reported(admin, organization):
    author = UserFactory(organization=organization, name="Eline Medewerker")
    post = PostFactory(author=author, body="Vergeet niet: vrijdag teamlunch om 12:30")
    moderation_services.report_create(reporter=UserFactory(organization=organization), target_type="post", target_id=post.pk, reason="spam")
    moderation_services.report_create(
        reporter=UserFactory(organization=organization), target_type="user", target_id=author.pk, reason="spam"
    )
    page = logged_in(admin).get("/admin/moderation/reportcase/").content.decode()
    assert "Vergeet niet: vrijdag teamlunch om 12:30" in page and "Eline Medewerker" in page


# --- The person change page ------------------------------------------------------------------------


def test_the_person_page_hides_password_internals_and_staff_flags_from_org_admins(admin, organization):
    person = UserFactory(organization=organization)
    page = logged_in(admin).get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    for hidden in (
        "algorithm",
        "salt",
        'name="is_staff"',
        'name="is_superuser"',
        'name="groups"',
        'name="user_permissions"',
        "../password/",
    ):
        assert hidden not in page, hidden
    assert 'name="role"' in page and 'name="is_active"' in page


def test_operators_still_see_them():
    operator = User.objects.create_superuser("root@example.com", "pw-root-123", name="Root")
    person = UserFactory(organization=OrganizationFactory())
    page = logged_in(operator).get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert 'name="is_staff"' in page and 'name="is_superuser"' in page and "../password/" in page


def test_an_unchanged_save_keeps_the_password(admin, organization):
    person = UserFactory(organization=organization)
    before = person.password
    client = logged_in(admin)
    response = client.get(f"/admin/accounts/user/{person.pk}/change/")
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if not form.fields[name].disabled and form[name].value() is not None}
    data["is_active"] = "on"
    for inline in response.context["inline_admin_formsets"]:
        for key, value in inline.formset.management_form.initial.items():
            data[f"{inline.formset.prefix}-{key}"] = value
    assert client.post(f"/admin/accounts/user/{person.pk}/change/", data).status_code == 302
    person.refresh_from_db()
    assert person.password == before

"""The console through Django's test client: who may open what, the numbers, CSV, tenancy."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from tests.console.world import PASSWORD, build_world

pytestmark = pytest.mark.django_db

PAGES = ["/console/reach/", "/console/engagement/", "/console/recognition/", "/console/voice/", "/console/surveys/"]


@pytest.fixture
def world():
    return build_world()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_a_sign_in(world):
    for page in PAGES:
        response = Client().get(page)
        assert response.status_code == 302 and response["Location"].startswith("/console/login/")


def test_the_login_form_signs_in_leaders_and_admins_and_logout_ends_it(world):
    client = Client(enforce_csrf_checks=True)
    page = client.get("/console/login/")
    token = page.cookies["csrftoken"].value
    response = client.post("/console/login/", {"username": "LARS@noord.example", "password": PASSWORD, "csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/console/reach/"
    assert client.get("/console/reach/").status_code == 200
    token = client.cookies["csrftoken"].value
    assert client.post("/console/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert client.get("/console/reach/").status_code == 302


def test_employees_cannot_sign_in_and_are_refused_with_a_session(world):
    response = Client().post("/console/login/", {"username": world.employee.email, "password": PASSWORD})
    assert response.status_code == 200 and "leader or admin" in response.content.decode()
    for page in PAGES:
        assert signed_in(world.employee).get(page).status_code == 403


def test_the_login_shares_the_api_lockout(world, api):
    for _ in range(5):
        Client().post("/console/login/", {"username": world.leader.email, "password": "wrong"})
    refused = Client().post("/console/login/", {"username": world.leader.email, "password": PASSWORD})
    assert refused.status_code == 200 and "sessionid" not in refused.cookies
    api_login = api().post("/api/v1/auth/login", {"email": world.leader.email, "password": PASSWORD}, format="json")
    assert api_login.status_code == 429


def test_leaders_see_their_groups_only_and_admins_the_organisation(world):
    leader, admin = signed_in(world.leader), signed_in(world.admin)
    for page in PAGES:
        assert leader.get(page).status_code == 200
        assert leader.get(f"{page}?group={world.store.pk}").status_code == 200
        assert leader.get(f"{page}?group={world.depot.pk}").status_code == 404  # not one of theirs
        assert leader.get(f"{page}?group={world.foreign_group.pk}").status_code == 404
        assert admin.get(f"{page}?group={world.depot.pk}").status_code == 200
        assert admin.get(f"{page}?group={world.foreign_group.pk}").status_code == 404
        assert leader.get(f"{page}?group=abc").status_code == 404
    reach = leader.get("/console/reach/").content.decode()
    assert "Nieuwe check-in procedure" in reach and "allergenenbeleid" not in reach
    assert "allergenenbeleid" in admin.get("/console/reach/").content.decode()
    assert leader.get(f"/console/reach/?post={world.depot_announcement.pk}").status_code == 404


def test_no_page_shows_another_organisations_data(world):
    for user in (world.leader, world.admin):
        client = signed_in(user)
        for page in PAGES:
            html = client.get(page).content.decode()
            assert world.foreign_marker not in html, page
            for chart in (
                "reach-summary",
                "reach-over-time",
                "reach-groups",
                "active-weekly",
                "activity-groups",
                "read-rate",
                "kudos-weekly",
                "kudos-groups",
                "voice-key-moments",
                "voice-groups",
                "voice-response",
                "survey-rate",
                "survey-scores",
            ):
                response = client.get(f"{page}?csv={chart}")
                if response.status_code == 200:
                    assert world.foreign_marker not in response.content.decode()


def test_reach_numbers_are_the_apis(world, api):
    page = signed_in(world.leader).get("/console/reach/?csv=reach-summary").content.decode()
    rows = list(csv.reader(io.StringIO(page)))
    assert rows[0] == ["Announcement", "Published", "Audience", "Seen", "Acknowledged"]
    [row] = [r for r in rows[1:] if r[0].startswith("Nieuwe check-in")]
    reach = api(world.leader).get(f"/api/v1/posts/{world.announcement.pk}/reach").json()
    assert [int(row[2]), int(row[3]), int(row[4])] == [reach["audience_count"], reach["seen_count"], reach["acknowledged_count"]]
    assert reach["audience_count"] >= 4 and reach["acknowledged_count"] == 3
    html = signed_in(world.leader).get("/console/reach/").content.decode()
    assert "people have not acknowledged yet" in html or "person has not acknowledged yet" in html


def test_recognition_and_engagement_numbers(world):
    admin = signed_in(world.admin)
    weekly = list(csv.reader(io.StringIO(admin.get("/console/recognition/?csv=kudos-weekly").content.decode())))
    assert sorted((r[1], r[2]) for r in weekly[1:]) == [("Gastvrij", "1"), ("no value", "1")]
    leader_weekly = list(csv.reader(io.StringIO(signed_in(world.leader).get("/console/recognition/?csv=kudos-weekly").content.decode())))
    assert [(r[1], r[2]) for r in leader_weekly[1:]] == [("Gastvrij", "1")]  # the kitchen's kudos are not the leader's
    groups = list(csv.reader(io.StringIO(admin.get("/console/engagement/?csv=activity-groups").content.decode())))
    assert ["Receptie", "1", "1", "1"] in [r[:1] + r[1:] for r in groups[1:]] or any(r[0] == "Receptie" for r in groups[1:])
    receptie = next(r for r in groups[1:] if r[0] == "Receptie")
    assert receptie[1:] == ["2", "1", "1"]  # the announcement and the post; one comment; one reaction
    assert admin.get("/console/engagement/?csv=nope").status_code == 404


def test_csv_cells_are_never_spreadsheet_formulas(world):
    world.announcement.body = '=HYPERLINK("http://evil")'
    world.announcement.save()
    text = signed_in(world.leader).get("/console/reach/?csv=reach-summary").content.decode()
    assert "'=HYPERLINK" in text


def test_pages_in_dutch_for_a_dutch_leader(world):
    world.leader.language = "nl"
    world.leader.save()
    html = signed_in(world.leader).get("/console/engagement/").content.decode()
    assert 'lang="nl"' in html


@pytest.mark.parametrize("page", PAGES)
def test_a_page_runs_a_fixed_number_of_queries(world, page, django_assert_max_num_queries):
    client = signed_in(world.admin)
    client.get(page)
    with django_assert_max_num_queries(40):
        assert client.get(page).status_code == 200


def test_voice_page_counts_signals_and_never_names_an_anonymous_author(world):
    admin = signed_in(world.admin)
    html = admin.get("/console/voice/").content.decode()
    assert "Late check-out asked daily" in html and "Softer kitchen music" in html
    groups = list(csv.reader(io.StringIO(admin.get("/console/voice/?csv=voice-groups").content.decode())))
    assert sorted(r[:3] for r in groups[1:]) == [["Keuken", "1", "0"], ["Receptie", "1", "0"]]
    detail = admin.get(f"/console/voice/signals/{world.signal.pk}/").content.decode()
    assert "Late check-out asked daily" in detail and "anonymous" in detail
    author = world.signal.author
    assert author.name not in detail and author.name not in html
    assert signed_in(world.admin).get("/console/voice/signals/999999/").status_code == 404


def test_surveys_page_shows_the_trend_and_suppresses_small_groups(world):
    admin = signed_in(world.admin)
    rate = list(csv.reader(io.StringIO(admin.get(f"/console/surveys/?survey={world.survey.pk}&csv=survey-scores").content.decode())))
    [row] = rate[1:]
    assert row[1] == "How likely are you to recommend working here?" and float(row[2]) == 50.0  # 4 of 6 promoters, 1 detractor
    # The kitchen has two answers: below the minimum group size of five, so suppressed.
    kitchen = admin.get(f"/console/surveys/?survey={world.survey.pk}&group={world.depot.pk}&csv=survey-rate").content.decode()
    assert "suppressed" in kitchen
    assert admin.get("/console/surveys/?survey=999999").status_code == 404


def test_remind_now_from_the_reach_page_once_an_hour(world, django_capture_on_commit_callbacks):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.leader)
    page = client.get(f"/console/reach/?post={world.announcement.pk}")
    assert 'id="remind-now"' in page.content.decode()
    token = client.cookies["csrftoken"].value
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(f"/console/reach/{world.announcement.pk}/remind/", HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and "Reminded" in first.content.decode()
    again = client.post(f"/console/reach/{world.announcement.pk}/remind/", HTTP_X_CSRFTOKEN=token)
    assert again.status_code == 200 and "less than an hour ago" in again.content.decode()
    assert client.post(f"/console/reach/{world.foreign_post.pk}/remind/", HTTP_X_CSRFTOKEN=token).status_code == 404
    assert client.post(f"/console/reach/{world.announcement.pk}/remind/").status_code == 403  # no CSRF token
    employee = signed_in(world.employee)
    assert employee.post(f"/console/reach/{world.announcement.pk}/remind/").status_code == 403


def test_heavy_numbers_are_kept_and_refreshed_by_beat_for_the_scopes_people_open(world):
    from console import snapshots
    from console.models import ConsoleView
    from feed.models import Acknowledgement

    leader = signed_in(world.leader)
    before = leader.get("/console/reach/?csv=reach-summary").content.decode()
    assert leader.get("/console/reach/").status_code == 200
    assert ConsoleView.objects.filter(user=world.leader, page="reach").exists()
    from feed.selectors.reach import not_acknowledged_list

    newcomer = not_acknowledged_list(post=world.announcement).exclude(pk=world.leader.pk).first()
    Acknowledgement.objects.create(post=world.announcement, user=newcomer, acknowledged_at=world.announcement.published_at)
    assert leader.get("/console/reach/?csv=reach-summary").content.decode() == before  # kept
    assert snapshots.refresh_recent() >= 1  # what beat runs
    after = leader.get("/console/reach/?csv=reach-summary").content.decode()
    assert after != before
    row = next(r for r in csv.reader(io.StringIO(after)) if r[0].startswith("Nieuwe check-in"))
    assert row[4] == "4"

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection, transaction

from recognition.models import Kudos, KudosRecipient
from recognition.services import kudos_give
from tests.conftest import requires_postgres
from tests.factories import OrganizationFactory, UserFactory
from tests.recognition.factories import CompanyValueFactory, KudosFactory


def give(api, user, **body):
    body.setdefault("message", "Thanks for covering my shift!")
    return api(user).post("/api/v1/kudos", body, format="json")


def test_give_kudos_to_two_colleagues(api, org, employee, events):
    a, b = UserFactory.create_batch(2, organization=org)
    value = CompanyValueFactory(organization=org, name="Samen sterk", emoji="💪")
    response = give(api, employee, recipient_ids=[a.pk, b.pk], value_id=value.pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["giver"]["id"] == employee.pk
    assert [r["id"] for r in body["recipients"]] == [a.pk, b.pk]
    assert body["value"] == {"id": value.pk, "name": "Samen sterk", "emoji": "💪"}
    [event] = events.of_type("kudos.created")
    assert event["organization_id"] == org.pk
    assert event["org_wide"] is True
    assert event["addressed"] == [{"user_id": a.pk, "reason": "kudos"}, {"user_id": b.pk, "reason": "kudos"}]
    assert event["payload"]["recipients"] == [{"id": a.pk, "name": a.name}, {"id": b.pk, "name": b.name}]
    assert event["payload"]["value"] == {"id": value.pk, "name": "Samen sterk", "emoji": "💪"}


def test_no_self_kudos(api, employee, events):
    response = give(api, employee, recipient_ids=[employee.pk])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "self_kudos"
    assert events == []


def test_a_kudos_message_with_a_bidi_override_is_refused(api, employee, events):
    colleague = UserFactory(organization=employee.organization)
    response = give(api, employee, recipient_ids=[colleague.pk], message="Thanks \u202efor the help\u202c!")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bidi_override"
    assert "message" in response.json()["error"]["fields"]
    assert events == []


def test_the_database_refuses_self_kudos_too(employee):
    kudos = KudosFactory(giver=employee)
    with pytest.raises(IntegrityError), transaction.atomic():
        KudosRecipient.objects.create(kudos=kudos, recipient=employee, giver=employee)


def test_recipients_must_be_active_colleagues(api, org, employee):
    stranger = UserFactory(organization=OrganizationFactory())
    gone = UserFactory(organization=org, is_active=False)
    for person in (stranger, gone):
        response = give(api, employee, recipient_ids=[person.pk])
        assert response.status_code == 400
        assert "recipient_ids" in response.json()["error"]["fields"]
    assert Kudos.objects.count() == 0


def test_at_most_ten_recipients(api, org, employee):
    people = UserFactory.create_batch(11, organization=org)
    assert give(api, employee, recipient_ids=[p.pk for p in people]).status_code == 400


def test_value_required_when_the_organisation_says_so(api, org, employee):
    org.kudos_value_required = True
    org.save()
    colleague = UserFactory(organization=org)
    response = give(api, employee, recipient_ids=[colleague.pk])
    assert response.status_code == 400
    assert "value_id" in response.json()["error"]["fields"]


def test_value_of_another_organisation_is_400(api, org, employee):
    foreign = CompanyValueFactory(organization=OrganizationFactory())
    response = give(api, employee, recipient_ids=[UserFactory(organization=org).pk], value_id=foreign.pk)
    assert response.status_code == 400
    assert "value_id" in response.json()["error"]["fields"]


def test_message_limit_counts_graphemes(api, org, employee):
    colleague = UserFactory(organization=org)
    family = "👨‍👩‍👧"  # one grapheme cluster, five code points
    assert give(api, employee, recipient_ids=[colleague.pk], message=family * 5000).status_code == 201
    response = give(api, employee, recipient_ids=[colleague.pk], message="a" * 5001)
    assert response.status_code == 400
    assert "message" in response.json()["error"]["fields"]


def test_monthly_allowance_resets_on_the_1st_in_the_organisations_zone(org, employee, time_machine_now):
    org.kudos_monthly_allowance = 2
    org.timezone = "America/New_York"
    org.save()
    colleague = UserFactory(organization=org)
    # 1 March 2026 03:30 UTC is still 28 February in New York.
    time_machine_now(dt.datetime(2026, 3, 1, 3, 30, tzinfo=dt.UTC))
    kudos_give(giver=employee, recipient_ids=[colleague.pk], message="one")
    kudos_give(giver=employee, recipient_ids=[colleague.pk], message="two")
    with pytest.raises(Exception) as refused:
        kudos_give(giver=employee, recipient_ids=[colleague.pk], message="three")
    assert refused.value.code == "kudos_allowance_reached"
    # 05:30 UTC is 00:30 on 1 March in New York: a new month.
    time_machine_now(dt.datetime(2026, 3, 1, 5, 30, tzinfo=dt.UTC))
    kudos_give(giver=employee, recipient_ids=[colleague.pk], message="three")


def test_allowance_reached_over_the_api_is_400(api, org, employee):
    org.kudos_monthly_allowance = 1
    org.save()
    colleague = UserFactory(organization=org)
    assert give(api, employee, recipient_ids=[colleague.pk]).status_code == 201
    response = give(api, employee, recipient_ids=[colleague.pk])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "kudos_allowance_reached"


def test_kudos_posting_is_throttled(api, org, employee, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "kudos": "2/min"},
    }
    colleague = UserFactory(organization=org)
    client = api(employee)
    codes = [client.post("/api/v1/kudos", {"recipient_ids": [colleague.pk], "message": "hi"}, format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 429]
    assert client.get("/api/v1/kudos").status_code == 200  # reading does not count against the kudos scope


def test_kudos_list_filters(api, org, employee):
    a, b = UserFactory.create_batch(2, organization=org)
    to_a = KudosFactory(giver=employee, recipients=[a])
    to_b = KudosFactory(giver=a, recipients=[b])
    KudosFactory(giver=UserFactory(organization=OrganizationFactory()), recipients=[])  # another organisation's
    client = api(employee)
    assert [k["id"] for k in client.get("/api/v1/kudos").json()["results"]] == [to_b.pk, to_a.pk]
    assert [k["id"] for k in client.get(f"/api/v1/kudos?user={a.pk}").json()["results"]] == [to_a.pk]
    assert [k["id"] for k in client.get(f"/api/v1/kudos?given_by={a.pk}").json()["results"]] == [to_b.pk]
    assert client.get("/api/v1/kudos?user=abc").status_code == 400


@pytest.mark.parametrize("size", [2, 8])
def test_kudos_list_query_count(api, org, employee, size, django_assert_num_queries):
    from media.models import UserAvatar
    from tests.media.factories import MediaFactory

    value = CompanyValueFactory(organization=org)
    for _ in range(size):
        giver = UserFactory(organization=org)
        # People with an avatar must cost no extra query either.
        UserAvatar.objects.create(user=giver, media=MediaFactory(owner=giver))
        KudosFactory(giver=giver, recipients=UserFactory.create_batch(2, organization=org), value=value)
    client = api(employee)
    client.get("/api/v1/me")
    # auth, page (giver and value joined), recipients prefetch
    with django_assert_num_queries(3):
        response = client.get("/api/v1/kudos")
    assert len(response.json()["results"]) == size


def test_kudos_list_pages_with_a_cursor(api, org, employee):
    made = [KudosFactory(giver=employee, recipients=[UserFactory(organization=org)]).pk for _ in range(5)]
    client = api(employee)
    first = client.get("/api/v1/kudos?page_size=3").json()
    second = client.get(first["next"]).json()
    assert [k["id"] for k in first["results"] + second["results"]] == list(reversed(made))


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_allowance_holds_under_concurrency():
    org = OrganizationFactory(kudos_monthly_allowance=3)
    giver = UserFactory(organization=org)
    colleague = UserFactory(organization=org)
    barrier = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt():
        try:
            barrier.wait()
            kudos_give(giver=giver, recipient_ids=[colleague.pk], message="thanks")
            outcomes.append("created")
        except Exception as error:
            outcomes.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 3
    assert outcomes.count("kudos_allowance_reached") == 9
    assert Kudos.objects.filter(giver=giver).count() == 3


def test_kudos_creates_one_feed_post_with_its_card(api, org, employee, events):
    from feed.models import Post

    colleague = UserFactory(organization=org)
    value = CompanyValueFactory(organization=org, name="Service met een glimlach", emoji="😊")
    body = give(api, employee, recipient_ids=[colleague.pk], value_id=value.pk, message="Great help!").json()
    post = Post.objects.get()
    assert body["post_id"] == post.pk
    assert (post.kind, post.author_id, post.org_wide, post.body) == ("kudos", employee.pk, True, "Great help!")
    assert post.card["recipients"] == [{"id": colleague.pk, "name": colleague.name}]
    assert post.card["value"] == {"id": value.pk, "name": "Service met een glimlach", "emoji": "😊"}
    assert events.of_type("kudos.created")[0]["payload"]["post_id"] == post.pk
    feed_card = api(colleague).get(f"/api/v1/posts/{post.pk}").json()
    assert feed_card["kudos"]["recipients"] == [{"id": colleague.pk, "name": colleague.name}]


def test_a_refused_kudos_leaves_no_feed_post(api, org, employee):
    from feed.models import Post

    org.kudos_monthly_allowance = 0
    org.save()
    assert give(api, employee, recipient_ids=[UserFactory(organization=org).pk]).status_code == 400
    assert Post.objects.count() == 0


def test_kudos_with_an_image_claims_it_for_the_organisation(api, org, employee, settings, tmp_path):
    from tests.media.factories import ready_media

    settings.MEDIA_ROOT = tmp_path
    image = ready_media(owner=employee)
    colleague = UserFactory(organization=org)
    response = give(api, employee, recipient_ids=[colleague.pk], image_id=image.pk)
    assert response.status_code == 201, response.json()
    assert response.json()["image"]["id"] == image.pk
    image.refresh_from_db()
    assert image.attached_at is not None and image.org_wide
    # Someone else's upload is not yours to attach.
    other = ready_media(owner=colleague)
    refused = give(api, employee, recipient_ids=[colleague.pk], image_id=other.pk)
    assert refused.status_code == 400
    assert "image_id" in refused.json()["error"]["fields"]


def test_kudos_cites_a_key_moment_the_giver_can_see(api, org, employee, leader):
    from feed.models import Post
    from feed.services.goals import key_moment_create
    from tests.factories import GroupFactory

    welcome = key_moment_create(actor=leader, expected_behaviour="Greet every guest", title="Welkom bij de deur")
    hidden = key_moment_create(
        actor=leader, expected_behaviour="Greet every guest", title="Alleen magazijn", group_ids=[GroupFactory(organization=org).pk]
    )
    colleague = UserFactory(organization=org)
    body = give(api, employee, recipient_ids=[colleague.pk], key_moment_id=welcome.pk).json()
    assert body["key_moment"] == {"id": welcome.pk, "title": "Welkom bij de deur"}
    assert Post.objects.get(kind="kudos").card["key_moment"] == {"id": welcome.pk, "title": "Welkom bij de deur"}
    for key_moment_id in (hidden.pk, 10**12):
        refused = give(api, employee, recipient_ids=[colleague.pk], key_moment_id=key_moment_id)
        assert refused.status_code == 400
        assert "key_moment_id" in refused.json()["error"]["fields"]
    # The feed counts kudos per key moment through the relation recognition defines.
    journey = api(employee).get("/api/v1/key-moments").json()["results"]
    assert [(k["id"], k["kudos_this_month"]) for k in journey] == [(welcome.pk, 1)]


# --- one kudos, and the value and key-moment filters (issue #22) --------------------------------------


def test_one_kudos_by_id_as_the_list_shows_it(api, org, employee, events):
    colleague = UserFactory(organization=org)
    created = give(api, employee, recipient_ids=[colleague.pk]).json()
    client = api(UserFactory(organization=org))  # kudos are public to the organisation
    response = client.get(f"/api/v1/kudos/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created == client.get("/api/v1/kudos").json()["results"][0]
    assert client.get("/api/v1/kudos/987654321").status_code == 404
    foreign = KudosFactory(giver=UserFactory(organization=OrganizationFactory()))
    assert client.get(f"/api/v1/kudos/{foreign.pk}").status_code == 404


def test_one_kudos_costs_three_queries(api, org, employee, django_assert_num_queries):
    kudos = KudosFactory(
        giver=employee, recipients=UserFactory.create_batch(3, organization=org), value=CompanyValueFactory(organization=org)
    )
    client = api(employee)
    client.get("/api/v1/me")
    # auth, the kudos (giver and value joined), recipients prefetch
    with django_assert_num_queries(3):
        assert client.get(f"/api/v1/kudos/{kudos.pk}").status_code == 200


def test_kudos_filter_by_value_and_key_moment(api, org, employee, leader):
    from feed.models import KeyMoment

    a = UserFactory(organization=org)
    service, teamwork = CompanyValueFactory.create_batch(2, organization=org)
    greeting = KeyMoment.objects.create(organization=org, title="Greeting", expected_behaviour="Smile", position=1, created_by=leader)
    with_service = KudosFactory(giver=employee, recipients=[a], value=service)
    with_both = KudosFactory(giver=employee, recipients=[a], value=teamwork, key_moment=greeting)
    KudosFactory(giver=employee, recipients=[a])
    client = api(employee)
    assert [k["id"] for k in client.get("/api/v1/kudos", {"value": service.pk}).json()["results"]] == [with_service.pk]
    assert [k["id"] for k in client.get("/api/v1/kudos", {"key_moment": greeting.pk}).json()["results"]] == [with_both.pk]
    assert client.get("/api/v1/kudos", {"value": service.pk, "key_moment": greeting.pk}).json()["results"] == []
    assert [k["id"] for k in client.get("/api/v1/kudos", {"value": teamwork.pk, "user": a.pk}).json()["results"]] == [with_both.pk]
    # Another organisation's value filters to nothing of theirs or ours.
    other_org = OrganizationFactory()
    foreign_value = CompanyValueFactory(organization=other_org)
    KudosFactory(giver=UserFactory(organization=other_org), value=foreign_value)
    assert client.get("/api/v1/kudos", {"value": foreign_value.pk}).json()["results"] == []
    for bad in ({"value": "abc"}, {"key_moment": ""}, {"value": "0"}):
        assert client.get("/api/v1/kudos", bad).status_code == 400, bad


@pytest.mark.parametrize("size", [2, 8])
def test_filtered_kudos_list_query_count(api, org, employee, size, django_assert_num_queries):
    value = CompanyValueFactory(organization=org)
    for _ in range(size):
        KudosFactory(giver=UserFactory(organization=org), recipients=UserFactory.create_batch(2, organization=org), value=value)
    client = api(employee)
    client.get("/api/v1/me")
    with django_assert_num_queries(3):
        response = client.get("/api/v1/kudos", {"value": value.pk, "page_size": 5})
    assert len(response.json()["results"]) == min(size, 5)

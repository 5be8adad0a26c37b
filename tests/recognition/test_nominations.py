import threading

import pytest
from django.db import IntegrityError, connection, transaction

from accounts.models import Membership
from recognition.models import AuditAction, Endorsement, Nomination, RecognitionAuditEntry, RoundStatus
from recognition.services import nomination_create
from tests.conftest import requires_postgres
from tests.factories import GroupFactory, LeaderFactory, OrganizationFactory, UserFactory
from tests.recognition.factories import AwardCategoryFactory, AwardRoundFactory, KudosFactory, NominationFactory

REASON = "Stayed late to help a customer whose order went missing."


def nominate(api, user, round_id, nominee_id, reason=REASON):
    return api(user).post(f"/api/v1/awards/rounds/{round_id}/nominations", {"nominee_id": nominee_id, "reason": reason}, format="json")


def test_nominate_a_colleague(api, employee, open_round):
    colleague = UserFactory(organization=employee.organization)
    response = nominate(api, employee, open_round.pk, colleague.pk)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["nominee"]["id"] == colleague.pk
    assert body["nominator"]["id"] == employee.pk
    assert body["reason"] == REASON
    entry = RecognitionAuditEntry.objects.get(action=AuditAction.NOMINATION_CREATED)
    assert (entry.actor_id, entry.round_id, entry.nomination_id) == (employee.pk, open_round.pk, body["id"])


def test_self_nomination_is_400(api, employee, open_round):
    response = nominate(api, employee, open_round.pk, employee.pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "self_nomination"
    assert "nominee_id" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("Always kind to customers \u202eand colleagues, every single day", "bidi_override"),
        ("Stayed late \u2067to help\u2069 a customer whose order went missing", "bidi_override"),
        ("Too short", "too_short"),
    ],
    ids=["bidi-override", "bidi-isolate", "too-short"],
)
def test_a_nomination_reason_follows_the_rules_of_every_text(api, employee, open_round, reason, code):
    # The reason is quoted on the award card the whole organisation sees: a bidi override
    # could make it show one thing and say another, as in a post.
    colleague = UserFactory(organization=employee.organization)
    response = nominate(api, employee, open_round.pk, colleague.pk, reason=reason)
    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == code
    assert "reason" in response.json()["error"]["fields"]
    assert not Nomination.objects.exists()


def test_a_nomination_reason_with_a_bidi_override_is_refused_by_the_service_too(employee, open_round):
    from server.api.exceptions import ValidationFailed

    colleague = UserFactory(organization=employee.organization)
    with pytest.raises(ValidationFailed) as refused:
        nomination_create(
            nominator=employee, round=open_round, nominee_id=colleague.pk, reason="Great work \u202eevery day on the shop floor"
        )
    assert refused.value.code == "bidi_override"


def test_the_database_refuses_self_nomination_too(open_round, employee):
    with pytest.raises(IntegrityError), transaction.atomic():
        Nomination.objects.create(round=open_round, nominator=employee, nominee=employee, reason=REASON)


def test_duplicate_nomination_is_409(api, employee, open_round):
    colleague = UserFactory(organization=employee.organization)
    assert nominate(api, employee, open_round.pk, colleague.pk).status_code == 201
    response = nominate(api, employee, open_round.pk, colleague.pk)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "duplicate_nomination"
    assert Nomination.objects.count() == 1


def test_limit_per_nominator_is_400(api, employee, open_round):
    open_round.category.max_nominations_per_nominator = 2
    open_round.category.save()
    people = UserFactory.create_batch(3, organization=employee.organization)
    assert nominate(api, employee, open_round.pk, people[0].pk).status_code == 201
    assert nominate(api, employee, open_round.pk, people[1].pk).status_code == 201
    response = nominate(api, employee, open_round.pk, people[2].pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "nomination_limit_reached"


def test_ineligible_nominee_is_400(api, org, employee):
    team = GroupFactory(organization=org)
    Membership.objects.create(group=team, user=employee)
    category = AwardCategoryFactory(organization=org)
    category.groups.set([team])
    round = AwardRoundFactory(category=category)
    outsider = UserFactory(organization=org)
    response = nominate(api, employee, round.pk, outsider.pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "not_eligible"
    insider = UserFactory(organization=org)
    Membership.objects.create(group=team, user=insider)
    assert nominate(api, employee, round.pk, insider.pk).status_code == 201


def test_other_organisations_colleague_is_400(api, employee, open_round):
    stranger = UserFactory(organization=OrganizationFactory())
    response = nominate(api, employee, open_round.pk, stranger.pk)
    assert response.status_code == 400
    assert "nominee_id" in response.json()["error"]["fields"]


def test_closed_round_is_400(api, employee, open_round):
    open_round.status = RoundStatus.CLOSED
    open_round.save()
    response = nominate(api, employee, open_round.pk, UserFactory(organization=employee.organization).pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "round_closed"


def test_reason_needs_a_minimum_length(api, employee, open_round):
    response = nominate(api, employee, open_round.pk, UserFactory(organization=employee.organization).pk, reason="great")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]


def test_round_of_a_category_outside_my_groups_is_404(api, org, employee):
    category = AwardCategoryFactory(organization=org)
    category.groups.set([GroupFactory(organization=org)])
    round = AwardRoundFactory(category=category)
    assert nominate(api, employee, round.pk, UserFactory(organization=org).pk).status_code == 404


def test_colleagues_see_every_nomination_of_the_round_and_filter_their_own(api, org, employee, open_round):
    # Issue #22: endorsing needs the nominations to be seen, so employees get all of the round.
    mine = NominationFactory(round=open_round, nominator=employee)
    other = NominationFactory(round=open_round)
    Endorsement.objects.create(nomination=other, user=employee)
    url = f"/api/v1/awards/rounds/{open_round.pk}/nominations"
    client = api(employee)
    results = client.get(url).json()["results"]
    assert [n["id"] for n in results] == [mine.pk, other.pk]
    assert [(n["endorsement_count"], n["endorsed_by_me"]) for n in results] == [(0, False), (1, True)]
    assert results[1]["nominee"]["id"] == other.nominee_id and results[1]["reason"] == other.reason
    assert results[1]["nominator"]["id"] == other.nominator_id  # an open category names its nominators
    assert [n["id"] for n in client.get(url, {"mine": "true"}).json()["results"]] == [mine.pk]
    assert [n["id"] for n in client.get(url, {"endorsed": "true"}).json()["results"]] == [other.pk]
    assert [n["id"] for n in client.get(url, {"mine": "false"}).json()["results"]] == [mine.pk, other.pk]
    assert [n["id"] for n in api(LeaderFactory(organization=org)).get(url).json()["results"]] == [mine.pk, other.pk]
    assert client.get(url, {"mine": "maybe"}).status_code == 400


def test_a_colleague_endorses_from_the_list_and_sees_it_as_theirs(api, org, open_round):
    nomination = NominationFactory(round=open_round)
    colleague = UserFactory(organization=org)
    client = api(colleague)
    url = f"/api/v1/awards/rounds/{open_round.pk}/nominations"
    [listed] = client.get(url).json()["results"]
    assert client.post(f"/api/v1/nominations/{listed['id']}/endorse").status_code == 200
    [listed] = client.get(url, {"endorsed": "true"}).json()["results"]
    assert (listed["id"], listed["endorsement_count"], listed["endorsed_by_me"]) == (nomination.pk, 1, True)
    # Another colleague sees the count, not as theirs.
    [seen] = api(UserFactory(organization=org)).get(url).json()["results"]
    assert (seen["endorsement_count"], seen["endorsed_by_me"]) == (1, False)


def test_nominations_of_a_category_outside_my_groups_are_404(api, org, employee):
    category = AwardCategoryFactory(organization=org)
    category.groups.set([GroupFactory(organization=org)])
    round = AwardRoundFactory(category=category)
    NominationFactory(round=round)
    assert api(employee).get(f"/api/v1/awards/rounds/{round.pk}/nominations").status_code == 404


def test_confidential_nominations_hide_the_nominator_and_the_kudos_that_would_name_them(api, org, employee, open_round):
    open_round.category.confidential = True
    open_round.category.save()
    nominator, nominee = UserFactory.create_batch(2, organization=org)
    own_kudos = KudosFactory(giver=nominator, recipients=[nominee])
    others_kudos = KudosFactory(giver=UserFactory(organization=org), recipients=[nominee])
    nomination = NominationFactory(round=open_round, nominator=nominator, nominee=nominee)
    nomination.evidence_kudos.set([own_kudos, others_kudos])
    url = f"/api/v1/awards/rounds/{open_round.pk}/nominations"
    [seen] = api(employee).get(url).json()["results"]
    assert seen["nominator"] is None and seen["reason"] == nomination.reason and seen["nominee"]["id"] == nominee.pk
    assert seen["evidence_kudos_ids"] == [others_kudos.pk]
    assert nominator.name not in str(seen)
    [own] = api(nominator).get(url).json()["results"]
    assert own["nominator"]["id"] == nominator.pk
    assert own["evidence_kudos_ids"] == sorted([own_kudos.pk, others_kudos.pk])


@pytest.mark.parametrize("size", [2, 7])
@pytest.mark.parametrize("role", ["employee", "leader"])
def test_nomination_list_query_count(api, org, open_round, size, role, django_assert_num_queries):
    viewer = UserFactory(organization=org) if role == "employee" else LeaderFactory(organization=org)
    client = api(viewer)
    for nomination in NominationFactory.create_batch(size, round=open_round):
        Endorsement.objects.create(nomination=nomination, user=UserFactory(organization=org))
        Endorsement.objects.create(nomination=nomination, user=viewer)
        nomination.evidence_kudos.add(KudosFactory(giver=nomination.nominator, recipients=[nomination.nominee]))
    client.get("/api/v1/me")  # the token's first use writes last_used_at; measure a steady request
    # auth, round access, nominations page, evidence prefetch
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/awards/rounds/{open_round.pk}/nominations")
    assert len(response.json()["results"]) == size
    with django_assert_num_queries(4):
        response = client.get(f"/api/v1/awards/rounds/{open_round.pk}/nominations", {"endorsed": "true", "page_size": 1})
    assert len(response.json()["results"]) == 1


def test_confidential_nominators_are_hidden_from_everyone_but_admins(api, org, admin_user, open_round):
    open_round.category.confidential = True
    open_round.category.save()
    nominator = UserFactory(organization=org)
    nomination = NominationFactory(round=open_round, nominator=nominator)
    leader = LeaderFactory(organization=org)
    url = f"/api/v1/awards/rounds/{open_round.pk}/nominations"
    assert api(leader).get(url).json()["results"][0]["nominator"] is None
    assert api(admin_user).get(url).json()["results"][0]["nominator"]["id"] == nominator.pk
    # The nominator sees their own name; a colleague endorsing sees none.
    assert api(nominator).get(url).json()["results"][0]["nominator"]["id"] == nominator.pk
    endorser = UserFactory(organization=org)
    body = api(endorser).post(f"/api/v1/nominations/{nomination.pk}/endorse").json()
    assert body["nominator"] is None
    assert nominator.name not in str(body)


def test_endorse_is_idempotent(api, org, open_round):
    nomination = NominationFactory(round=open_round)
    endorser = UserFactory(organization=org)
    client = api(endorser)
    first = client.post(f"/api/v1/nominations/{nomination.pk}/endorse")
    second = client.post(f"/api/v1/nominations/{nomination.pk}/endorse")
    assert first.status_code == second.status_code == 200
    assert second.json()["endorsement_count"] == 1
    assert second.json()["endorsed_by_me"] is True
    assert Endorsement.objects.count() == 1
    assert RecognitionAuditEntry.objects.filter(action=AuditAction.ENDORSEMENT_CREATED).count() == 1


def test_cannot_endorse_own_nomination_or_for_yourself(api, open_round):
    nomination = NominationFactory(round=open_round)
    own = api(nomination.nominator).post(f"/api/v1/nominations/{nomination.pk}/endorse")
    assert own.status_code == 400
    assert own.json()["error"]["code"] == "own_nomination"
    self_ = api(nomination.nominee).post(f"/api/v1/nominations/{nomination.pk}/endorse")
    assert self_.status_code == 400
    assert self_.json()["error"]["code"] == "endorse_self"


def test_cannot_endorse_in_a_closed_round(api, org, open_round):
    nomination = NominationFactory(round=open_round)
    open_round.status = RoundStatus.CLOSED
    open_round.save()
    response = api(UserFactory(organization=org)).post(f"/api/v1/nominations/{nomination.pk}/endorse")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "round_closed"


def test_promote_kudos_to_nomination(api, org, employee, open_round):
    colleague = UserFactory(organization=org)
    kudos = KudosFactory(giver=employee, recipients=[colleague], message="You rescued the Saturday rush single-handedly, thank you!")
    response = api(employee).post(f"/api/v1/kudos/{kudos.pk}/nominate", {"round_id": open_round.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["nominee"]["id"] == colleague.pk
    assert body["reason"] == kudos.message
    assert body["evidence_kudos_ids"] == [kudos.pk]


def test_promote_kudos_with_several_recipients_needs_the_nominee(api, org, employee, open_round):
    a, b = UserFactory.create_batch(2, organization=org)
    kudos = KudosFactory(giver=employee, recipients=[a, b])
    client = api(employee)
    missing = client.post(f"/api/v1/kudos/{kudos.pk}/nominate", {"round_id": open_round.pk, "reason": REASON}, format="json")
    assert missing.status_code == 400
    assert "nominee_id" in missing.json()["error"]["fields"]
    ok = client.post(f"/api/v1/kudos/{kudos.pk}/nominate", {"round_id": open_round.pk, "reason": REASON, "nominee_id": b.pk}, format="json")
    assert ok.status_code == 201
    assert ok.json()["nominee"]["id"] == b.pk


def test_promote_kudos_into_another_organisations_round_is_400(api, org, employee):
    kudos = KudosFactory(giver=employee, recipients=[UserFactory(organization=org)])
    foreign_round = AwardRoundFactory(category=AwardCategoryFactory(organization=OrganizationFactory()))
    response = api(employee).post(f"/api/v1/kudos/{kudos.pk}/nominate", {"round_id": foreign_round.pk}, format="json")
    assert response.status_code == 400
    assert "round_id" in response.json()["error"]["fields"]


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_limit_holds_under_20_concurrent_requests():
    org = OrganizationFactory()
    category = AwardCategoryFactory(organization=org, max_nominations_per_nominator=3)
    round = AwardRoundFactory(category=category)
    nominator = UserFactory(organization=org)
    nominees = UserFactory.create_batch(20, organization=org)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def attempt(nominee):
        try:
            barrier.wait()
            nomination_create(nominator=nominator, round=round, nominee_id=nominee.pk, reason=REASON)
            outcomes.append("created")
        except Exception as error:
            outcomes.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in nominees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 3
    assert outcomes.count("nomination_limit_reached") == 17
    assert Nomination.objects.filter(round=round, nominator=nominator).count() == 3


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_same_nomination_20_times_concurrently_gives_one_row():
    org = OrganizationFactory()
    round = AwardRoundFactory(category=AwardCategoryFactory(organization=org))
    nominator, nominee = UserFactory.create_batch(2, organization=org)
    barrier = threading.Barrier(20)
    outcomes: list[str] = []

    def attempt():
        try:
            barrier.wait()
            nomination_create(nominator=nominator, round=round, nominee_id=nominee.pk, reason=REASON)
            outcomes.append("created")
        except Exception as error:
            outcomes.append(getattr(error, "code", repr(error)))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("created") == 1
    assert outcomes.count("duplicate_nomination") == 19


def test_a_deactivated_categorys_round_takes_no_nominations(api, org, employee, open_round):
    open_round.category.active = False
    open_round.category.save()
    leader = LeaderFactory(organization=org)
    response = nominate(api, leader, open_round.pk, employee.pk)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "round_closed"


def test_nominating_is_throttled(api, org, employee, open_round, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "nominations": "1/min"},
    }
    people = UserFactory.create_batch(2, organization=org)
    assert nominate(api, employee, open_round.pk, people[0].pk).status_code == 201
    assert nominate(api, employee, open_round.pk, people[1].pk).status_code == 429
    assert api(employee).get(f"/api/v1/awards/rounds/{open_round.pk}/nominations").status_code == 200

"""The search statement compiled once per shape (search.engine, PostgreSQL): it is used, it
answers what the ORM's statement answers for every type, role, group and cursor, a provider
that runs a query while its statement is built keeps the ORM path, and the check that compares
the two can fail."""

from __future__ import annotations

import dataclasses

import pytest

from feed import services as feed_services
from feed.services import goals
from recognition import services as recognition_services
from search import engine, registry
from search.query import parse_query
from tests.conftest import IS_POSTGRES
from tests.factories import AdminFactory, MembershipFactory, UserFactory
from voice.services import signals as signal_services

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL only: SQLite keeps the ORM path")]


@pytest.fixture(autouse=True)
def _fresh_shapes():
    engine._compiled.clear()
    yield
    engine._compiled.clear()


def corpus(leader, employee, group):
    MembershipFactory(group=group, user=employee)
    UserFactory(organization=employee.organization, name="Kassa Karel")
    for n in range(5):
        feed_services.post_create(author=leader, body=f"De kassa van winkel {n} staat klaar")
    feed_services.post_create(author=leader, body="Alleen voor de groep: kassa dicht", group_ids=[group.pk])
    post = feed_services.post_create(author=employee, body="Kassa kwijt?", group_ids=[group.pk])
    feed_services.comment_create(author=employee, post=post, body="De kassa staat achter")
    goals.goal_create(actor=leader, title="Kassa sneller", why="Wachtrij", how_to_help="Scan vooruit")
    goals.key_moment_create(actor=leader, title="Bij de kassa", description="Afrekenen", expected_behaviour="Glimlach")
    recognition_services.kudos_give(giver=employee, recipient_ids=[leader.pk], message="Kassa top geregeld")
    signal_services.signal_create(
        author=employee, kind="friction", title="Kassa hapert", body="De kassa hapert elke ochtend", visibility="leaders"
    )


def test_every_type_and_role_compiles_and_answers_as_the_orm(api, leader, employee, group):
    corpus(leader, employee, group)
    admin = AdminFactory(organization=employee.organization)
    for person in (employee, leader, admin):
        client = api(person)
        for q in ("kassa", "kassa winkel", '"de kassa"'):  # a prefix, two words, none
            assert client.get("/api/v1/search", {"q": q}).status_code == 200
            for type in registry.types():
                first = client.get("/api/v1/search", {"q": q, "type": type, "page_size": 2})
                assert first.status_code == 200, first.content
                cursor = first.json()["next_cursor"]
                if cursor:  # the next page and back: both cursor directions
                    second = client.get("/api/v1/search", {"q": q, "type": type, "page_size": 2, "cursor": cursor})
                    assert second.status_code == 200
                    back = second.json()["previous_cursor"]
                    assert (
                        client.get("/api/v1/search", {"q": q, "type": type, "page_size": 2, "cursor": back}).json()["results"]
                        == (first.json()["results"])
                    )
            assert client.get("/api/v1/search", {"q": q, "type": "post", "group": group.pk}).status_code == 200
    # SEARCH_VERIFY_COMPILED (on in the tests) compared each call with the ORM's statement;
    # here: every shape was compiled, none fell back.
    assert engine._compiled and all(compiled is not None for compiled in engine._compiled.values())
    assert {key[1] for key in engine._compiled} == set(registry.types())
    assert {key[2] for key in engine._compiled} == {"employee", "leader", "admin"}


def test_a_leaders_signal_is_found_by_a_leader_and_not_by_a_colleague_through_the_same_shape(api, leader, employee, group):
    corpus(leader, employee, group)
    MembershipFactory(group=group, user=leader)
    colleague = UserFactory(organization=employee.organization)
    signal = signal_services.signal_create(
        author=employee, kind="idea", title="Kassa bij de ingang", body="Een tweede kassa", visibility="leaders", group_id=group.pk
    )
    assert signal.pk in [row["id"] for row in api(leader).get("/api/v1/search", {"q": "ingang", "type": "signal"}).json()["results"]]
    assert api(colleague).get("/api/v1/search", {"q": "ingang", "type": "signal"}).json()["results"] == []
    assert api(employee).get("/api/v1/search", {"q": "ingang", "type": "signal"}).json()["results"][0]["id"] == signal.pk


def test_a_provider_that_queries_while_building_keeps_the_orm_path(employee, leader, group):
    corpus(leader, employee, group)
    posts = registry.get("post")

    def rows(*, user, group_id):
        list(type(user).objects.filter(pk=employee.pk))  # a query at build time: its result would be baked in
        return posts.rows(user=user, group_id=group_id)

    querying = dataclasses.replace(posts, type="post-querying", rows=rows)
    arguments = {"provider": querying, "query": parse_query("kassa"), "user": employee, "group_id": None, "cursor": None, "reverse": False}
    rows_found = engine.search_fetch(**arguments, limit=10)
    assert [key for key, compiled in engine._compiled.items() if key[1] == "post-querying" and compiled is None]
    assert [row["id"] for row in rows_found] == [row["id"] for row in engine._statement(**arguments, limit=10)]


def test_the_check_fails_when_the_compiled_statement_differs(employee, leader, group, settings):
    corpus(leader, employee, group)
    provider = registry.get("post")
    arguments = {"provider": provider, "query": parse_query("kassa"), "user": employee, "group_id": None, "cursor": None, "reverse": False}
    engine.search_fetch(**arguments, limit=5)
    [key] = [key for key in engine._compiled if key[1] == "post"]
    compiled = engine._compiled[key]
    engine._compiled[key] = dataclasses.replace(compiled, sql=compiled.sql.replace("DESC", "ASC"))
    with pytest.raises(AssertionError, match="differs from the ORM"):
        engine.search_fetch(**arguments, limit=5)
    settings.SEARCH_VERIFY_COMPILED = False  # production: the statement as compiled runs
    assert engine.search_fetch(**arguments, limit=5)

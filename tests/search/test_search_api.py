"""GET /api/v1/search on both databases: the syntax, types, grouping, paging, visibility,
hidden content, escaping, limits and query counts. Stemming and ranking, which only
PostgreSQL has, are in test_search_ranking_pg.py."""

from __future__ import annotations

import re

import pytest

from feed import services as feed_services
from feed.services import goals
from recognition import services as recognition_services
from tests.factories import GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import PostFactory, group_post
from tests.security.matrix import changed_tables, snapshot
from voice.services import signals as signal_services

pytestmark = pytest.mark.django_db


def search(client, q, **params):
    return client.get("/api/v1/search", {"q": q, **params})


def found(response, type=None):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"] if type is None or row["type"] == type]


def post(author, body, **kwargs):
    return feed_services.post_create(author=author, body=body, **kwargs)


def test_a_type_answers_its_usual_card_and_a_marked_snippet(api, leader, employee):
    made = post(leader, "Het nieuwe retourbeleid geldt vanaf maandag")
    PostFactory(author=leader, body="Iets anders")
    client = api(employee)
    response = search(client, "retourbeleid", type="post")
    [result] = response.json()["results"]
    assert result["type"] == "post" and result["id"] == made.pk
    assert result["item"] == client.get(f"/api/v1/posts/{made.pk}").json()
    assert "<mark>retourbeleid</mark>" in result["snippet"]
    assert response.json()["more"] == []


def test_without_type_the_first_three_of_each_type_grouped_in_order(api, leader, employee, group):
    MembershipFactory(group=group, user=employee)
    person = UserFactory(organization=employee.organization, name="Marloes Bakker")
    posts = [post(leader, f"Marloes heeft de kassa gered, deel {n}") for n in range(4)]
    feed_services.comment_create(author=employee, post=posts[0], body="Dank je Marloes!")
    goals.goal_create(actor=leader, title="Marloes' doel", why="Omdat het kan", how_to_help="Help Marloes")
    goals.key_moment_create(actor=leader, title="Kassa", description="Marloes legt uit", expected_behaviour="Glimlach")
    recognition_services.kudos_give(giver=employee, recipient_ids=[person.pk], message="Marloes, top gedaan")
    response = search(api(employee), "marloes")
    body = response.json()
    types = [row["type"] for row in body["results"]]
    assert types == ["person", "post", "post", "post", "comment", "goal", "key_moment", "kudos"]
    assert found(response, "person") == [person.pk]
    assert body["more"] == ["post"]
    assert body["next"] is None and body["next_cursor"] is None


def test_phrase_exclusion_and_or(api, leader, employee):
    exact = post(leader, "The return policy changes on Monday")
    loose = post(leader, "A policy on the return of goods")
    excluded = post(leader, "The return policy at the kassa")
    christmas = post(leader, "Rooster kerst hangt in de kantine")
    easter = post(leader, "Rooster pasen volgt later")
    client = api(employee)
    assert set(found(search(client, '"return policy"', type="post"))) == {exact.pk, excluded.pk}
    assert found(search(client, '"return policy" -kassa', type="post")) == [exact.pk]
    assert set(found(search(client, "return policy", type="post"))) == {exact.pk, loose.pk, excluded.pk}
    assert set(found(search(client, "kerst or pasen", type="post"))) == {christmas.pk, easter.pk}
    # Only an exclusion: nothing to look for, nothing found (not "everything without the word").
    assert found(search(client, "-kassa", type="post")) == []


def test_keyset_pages_without_duplicates_or_gaps(api, leader, employee):
    made = {PostFactory(author=leader, body=f"Inventaris week {n}").pk for n in range(25)}
    client = api(employee)
    page = search(client, "inventaris", type="post", page_size=10)
    seen = found(page)
    pages = [list(seen)]
    while page.json()["next"]:
        page = client.get(page.json()["next"])
        pages.append(found(page))
        seen += found(page)
    assert len(seen) == 25 and set(seen) == made
    assert [len(ids) for ids in pages] == [10, 10, 5]
    back = client.get(page.json()["previous"])
    assert found(back) == pages[1]


def test_visibility_follows_the_feed_for_every_type_and_role(api):
    org = OrganizationFactory()
    group_x, group_y = GroupFactory(organization=org), GroupFactory(organization=org)
    leader = LeaderFactory(organization=org)
    employee_x, employee_y = UserFactory(organization=org), UserFactory(organization=org)
    MembershipFactory(group=group_x, user=leader)
    MembershipFactory(group=group_x, user=employee_x)
    MembershipFactory(group=group_y, user=employee_y)
    word = "Zichtbaarheid"
    in_x = post(leader, f"{word} groep x", group_ids=[group_x.pk])
    org_wide = post(leader, f"{word} iedereen")
    comment_x = feed_services.comment_create(author=employee_x, post=in_x, body=f"{word} reactie")
    goal_x = goals.goal_create(actor=leader, title=f"{word} doel", why="w", how_to_help="h", group_ids=[group_x.pk])
    moment_x = goals.key_moment_create(actor=leader, title=f"{word} moment", expected_behaviour="b", group_ids=[group_x.pk])
    kudos = recognition_services.kudos_give(giver=employee_x, recipient_ids=[employee_y.pk], message=f"{word} dank")
    person = UserFactory(organization=org, name=f"{word} Persoon")
    UserFactory(organization=org, name=f"{word} Vertrokken", is_active=False)
    # Another organisation's everything, with the same word.
    other = OrganizationFactory()
    other_leader = LeaderFactory(organization=other)
    post(other_leader, f"{word} elders")
    UserFactory(organization=other, name=f"{word} Elders")
    goals.goal_create(actor=other_leader, title=f"{word} elders", why="w", how_to_help="h")

    expected_x = {
        ("person", person.pk),
        ("post", in_x.pk),
        ("post", org_wide.pk),
        ("comment", comment_x.pk),
        ("goal", goal_x.pk),
        ("key_moment", moment_x.pk),
        ("kudos", kudos.pk),
    }
    group_x_only = {("post", in_x.pk), ("comment", comment_x.pk), ("goal", goal_x.pk), ("key_moment", moment_x.pk)}
    for user, expected in (
        (employee_x, expected_x),
        (leader, expected_x),
        (employee_y, expected_x - group_x_only),
        (UserFactory(organization=org, role="admin"), expected_x),
    ):
        client = api(user)
        seen = set()
        for type in ("person", "post", "comment", "goal", "key_moment", "kudos"):
            seen |= {(type, pk) for pk in found(search(client, word.lower(), type=type))}
        assert seen == expected, user.role


def test_group_narrows_every_type(api, leader, employee, group):
    MembershipFactory(group=group, user=employee)
    MembershipFactory(group=group, user=leader)
    in_group = post(leader, "Voorraad telling", group_ids=[group.pk])
    post(leader, "Voorraad telling voor iedereen")
    client = api(employee)
    assert found(search(client, "voorraad", type="post", group=group.pk)) == [in_group.pk]
    outsider = UserFactory(organization=employee.organization, name="Voorraad Expert")
    insider = UserFactory(organization=employee.organization, name="Voorraad Kenner")
    MembershipFactory(group=group, user=insider)
    assert found(search(client, "voorraad", type="person", group=group.pk)) == [insider.pk]
    assert set(found(search(client, "voorraad", type="person"))) == {insider.pk, outsider.pk}


def test_hidden_removed_and_edited_content_changes_the_results_at_once(api, leader, admin_user, employee):
    shown = post(leader, "Koffieautomaat stuk op de tweede")
    comment = feed_services.comment_create(author=employee, post=shown, body="Koffieautomaat doet het weer")
    kudos = recognition_services.kudos_give(giver=employee, recipient_ids=[leader.pk], message="Koffieautomaat gerepareerd, dank!")
    client = api(employee)
    assert found(search(client, "koffieautomaat", type="post")) == [shown.pk]
    assert found(search(client, "koffieautomaat", type="comment")) == [comment.pk]
    assert found(search(client, "koffieautomaat", type="kudos")) == [kudos.pk]

    feed_services.comment_set_visibility(actor=admin_user, comment=comment, visible=False, reason="test")
    assert found(search(client, "koffieautomaat", type="comment")) == []
    feed_services.post_set_visibility(actor=admin_user, post=kudos.post, visible=False, reason="test")
    assert found(search(client, "koffieautomaat", type="kudos")) == []

    feed_services.post_update(actor=leader, post=shown, body="Printer stuk op de tweede")
    assert found(search(client, "koffieautomaat", type="post")) == []
    assert found(search(client, "printer", type="post")) == [shown.pk]
    feed_services.post_set_visibility(actor=admin_user, post=shown, visible=False, reason="test")
    assert found(search(client, "printer", type="post")) == []
    feed_services.post_set_visibility(actor=admin_user, post=shown, visible=True, reason="test")
    assert found(search(client, "printer", type="post")) == [shown.pk]
    feed_services.post_delete(actor=leader, post=shown)
    assert found(search(client, "printer", type="post")) == []


def test_snippets_are_text_with_mark_as_the_only_markup(api, leader, employee):
    post(leader, 'Let op: <script>alert("x")</script> & <b>vet</b> bij de kassa, 5 < 6')
    [result] = search(api(employee), "kassa", type="post").json()["results"]
    snippet = result["snippet"]
    assert "<mark>kassa</mark>" in snippet
    assert "<script" not in snippet and "<b>" not in snippet
    assert not re.search(r"[<>]", re.sub(r"</?mark>", "", snippet)), snippet
    assert "& " not in snippet  # an ampersand comes escaped
    assert result["item"]["body"].startswith("Let op: <script>")  # the card is data, as everywhere


def test_query_is_validated(api, employee):
    client = api(employee)
    assert search(client, "").status_code == 400
    assert client.get("/api/v1/search").status_code == 400
    assert search(client, "x" * 201).json()["error"]["fields"].keys() == {"q"}
    assert search(client, "kassa", type="gossip").status_code == 400
    assert search(client, "kassa", group="").status_code == 400
    assert search(client, "kassa", cursor="abc").json()["error"]["fields"].keys() == {"cursor"}
    assert search(client, "kassa", type="post", cursor="abc").json()["error"]["code"] == "invalid_cursor"
    assert api().get("/api/v1/search", {"q": "kassa"}).status_code == 401


def test_searches_are_rate_limited_per_user(api, settings, employee, leader):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "search": "3/min"},
    }
    client = api(employee)
    assert [search(client, "kassa").status_code for _ in range(3)] == [200, 200, 200]
    refused = search(client, "kassa")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert search(api(leader), "kassa").status_code == 200  # per user, not global


def test_a_search_stores_nothing(api, leader, employee):
    post(leader, "Privacy van zoekopdrachten")
    client = api(employee)
    client.get("/api/v1/me")  # a token's first use records last_used_at
    before = snapshot()
    assert found(search(client, "privacy", type="post"))
    found(search(client, "privacy"))
    assert changed_tables(before, snapshot()) == []


@pytest.mark.parametrize("count", [2, 8])
def test_one_type_costs_a_fixed_number_of_queries(api, django_assert_num_queries, leader, employee, group, count):
    MembershipFactory(group=group, user=employee)
    for n in range(count):
        made = group_post(group, author=leader, body=f"Schoonmaak ronde {n}")
        feed_services.comment_create(author=employee, post=made, body=f"Schoonmaak gedaan @[user:{leader.pk}]")
        goals.goal_create(actor=leader, title=f"Schoonmaak {n}", why="w", how_to_help="h", group_ids=[group.pk])
        goals.key_moment_create(actor=leader, title=f"Schoonmaak {n}", expected_behaviour="b", group_ids=[group.pk])
        recognition_services.kudos_give(giver=employee, recipient_ids=[leader.pk], message=f"Schoonmaak top {n}")
        UserFactory(organization=employee.organization, name=f"Schoonmaak Collega {n}")
        signal_services.signal_create(author=employee, kind="friction", title=f"Schoonmaak {n}", body="b", group_id=group.pk)
    client = api(employee)
    client.get("/api/v1/me")
    # Authentication (1), the page (1), its cards (post: 2, comment: 2, goal: 2, key moment: 2, kudos: 2, person: 2).
    for type in ("post", "comment", "goal", "key_moment", "kudos", "person"):
        with django_assert_num_queries(4):
            assert len(found(search(client, "schoonmaak", type=type))) == count
    # A signal's card is GET /signals/{id}'s: the signals, their photos, timelines and my support (4).
    with django_assert_num_queries(6):
        assert len(found(search(client, "schoonmaak", type="signal"))) == count
    # Every type: authentication, then a page and its cards per type.
    with django_assert_num_queries(1 + 6 * 3 + 5):
        assert len(found(search(client, "schoonmaak"))) == 7 * min(count, 3)


def test_an_erased_person_is_no_longer_found_by_name_in_people_or_text(api, leader, admin_user, employee):
    from moderation.erasure import erasure_now

    erased = UserFactory(organization=employee.organization, name="Rosalie Verbeek")
    thanked = post(leader, "Dank aan Rosalie Verbeek voor de hulp bij de inventaris")
    client = api(employee)
    assert found(search(client, "verbeek", type="person")) == [erased.pk]
    assert found(search(client, "verbeek", type="post")) == [thanked.pk]
    erasure_now(actor=admin_user, user=erased)
    assert found(search(client, "verbeek")) == []  # the name, in people and in others' posts, gone at once
    assert found(search(client, "inventaris", type="post")) == [thanked.pk]

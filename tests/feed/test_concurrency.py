"""Races that only a real database with real threads can show (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from feed.models import Acknowledgement, Reaction
from tests.conftest import requires_postgres
from tests.factories import UserFactory
from tests.feed.factories import PostFactory

pytestmark = [pytest.mark.django_db(transaction=True), requires_postgres()]

TYPES = ["like", "heart", "clap", "celebrate", "insightful"]


def run_together(count, action):
    barrier = threading.Barrier(count)
    statuses, errors = [], []

    def worker(index):
        try:
            barrier.wait()
            statuses.append(action(index))
        except Exception as error:  # surfaced below: a thread's exception would otherwise vanish
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return statuses


def test_twenty_concurrent_reactions_by_one_person_leave_one_reaction(api, org):
    post = PostFactory(author=UserFactory(organization=org))
    person = UserFactory(organization=org)
    clients = [api(person) for _ in range(20)]
    statuses = run_together(
        20, lambda i: clients[i].put(f"/api/v1/posts/{post.pk}/reaction", {"type": TYPES[i % 5]}, format="json").status_code
    )
    assert statuses == [200] * 20
    assert Reaction.objects.filter(post=post).count() == 1
    card = api(person).get(f"/api/v1/posts/{post.pk}").json()
    assert sum(card["reaction_counts"].values()) == 1
    assert card["reaction_counts"][card["my_reaction"]] == 1


def test_twenty_people_reacting_at_once_are_all_counted(api, org):
    post = PostFactory(author=UserFactory(organization=org))
    people = [UserFactory(organization=org) for _ in range(20)]
    clients = [api(person) for person in people]
    statuses = run_together(
        20, lambda i: clients[i].put(f"/api/v1/posts/{post.pk}/reaction", {"type": TYPES[i % 5]}, format="json").status_code
    )
    assert statuses == [200] * 20
    card = api(people[0]).get(f"/api/v1/posts/{post.pk}").json()
    assert card["reaction_counts"] == dict.fromkeys(TYPES, 4)


def test_concurrent_acknowledgements_by_one_person_record_one(api, org):
    post = PostFactory(author=UserFactory(organization=org, role="leader"), kind="announcement", requires_acknowledgement=True)
    person = UserFactory(organization=org)
    clients = [api(person) for _ in range(10)]
    statuses = run_together(10, lambda i: clients[i].post(f"/api/v1/posts/{post.pk}/acknowledge", {}, format="json").status_code)
    assert statuses == [200] * 10
    assert Acknowledgement.objects.filter(post=post).count() == 1


def test_schedulers_racing_publish_each_post_once(org, events):
    from datetime import timedelta

    from django.utils import timezone

    from feed import services
    from feed.models import Post

    author = UserFactory(organization=org, role="leader")
    posts = [PostFactory(author=author, published_at=None, publish_at=timezone.now() - timedelta(minutes=1)) for _ in range(5)]
    published = run_together(6, lambda i: services.posts_publish_due())
    assert sum(published) == 5
    assert Post.objects.filter(published_at__isnull=True).count() == 0
    assert sorted(e["payload"]["id"] for e in events if e["type"] == "post.created") == sorted(p.pk for p in posts)

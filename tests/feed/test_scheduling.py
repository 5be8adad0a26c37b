"""Scheduled posts: invisible until the beat task publishes them, published exactly once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feed import services
from feed.models import Post
from feed.tasks import posts_publish_due_task

pytestmark = pytest.mark.django_db


def schedule(api, leader, minutes=30, **extra):
    publish_at = timezone.now() + timedelta(minutes=minutes)
    response = api(leader).post(
        "/api/v1/posts", {"body": "Morgen open om 8 uur", "publish_at": publish_at.isoformat(), **extra}, format="json"
    )
    assert response.status_code == 201
    return Post.objects.get(pk=response.json()["id"]), response.json()


def test_scheduled_post_is_hidden_until_published(api, leader, employee, events):
    post, card = schedule(api, leader)
    assert card["published_at"] is None and card["publish_at"]
    assert events == []  # no WebSocket or push before it is public
    client = api(employee)
    assert client.get("/api/v1/feed").json()["results"] == []
    assert client.get(f"/api/v1/posts/{post.pk}").status_code == 404
    assert client.post(f"/api/v1/posts/{post.pk}/comments", {"body": "early"}, format="json").status_code == 404
    assert api(leader).get(f"/api/v1/posts/{post.pk}").status_code == 200  # the author sees their own

    assert services.posts_publish_due(now=timezone.now()) == 0  # not yet due
    assert services.posts_publish_due(now=timezone.now() + timedelta(hours=1)) == 1
    assert [card["id"] for card in client.get("/api/v1/feed").json()["results"]] == [post.pk]
    assert [e["type"] for e in events] == ["post.created"]
    assert events[0]["payload"]["published_at"]


def test_publishing_is_idempotent_and_catches_up_after_downtime(api, leader, events):
    posts = [schedule(api, leader, minutes=m)[0] for m in (1, 2, 3)]
    Post.objects.filter(pk__in=[p.pk for p in posts]).update(publish_at=timezone.now() - timedelta(days=1))
    assert posts_publish_due_task.delay().get() == 3
    assert posts_publish_due_task.delay().get() == 0
    assert services.post_publish_now(post=posts[0]) is False
    assert [e["type"] for e in events] == ["post.created"] * 3
    assert Post.objects.filter(published_at__isnull=True).count() == 0


def test_scheduled_post_lands_on_top_of_the_feed_when_published(api, leader, employee):
    post, _card = schedule(api, leader, minutes=1)
    later = services.post_create(author=leader, body="written after, published before")
    services.posts_publish_due(now=timezone.now() + timedelta(minutes=5))
    assert [card["id"] for card in api(employee).get("/api/v1/feed").json()["results"]] == [post.pk, later.pk]


def test_removed_scheduled_post_is_never_published(api, leader, events):
    post, _card = schedule(api, leader)
    services.post_delete(actor=leader, post=post)
    assert services.posts_publish_due(now=timezone.now() + timedelta(days=1)) == 0
    assert events == []


def test_the_beat_schedule_runs_the_task():
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["feed-publish-due-posts"]["task"] == "feed.tasks.posts_publish_due_task"

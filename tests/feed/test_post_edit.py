"""Editing a post beyond its text (groups, photos, deadline, schedule) and the scheduled list (#22)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feed import services
from feed.models import AcknowledgementReminder, Post
from feed.services.mandatory_reads import mandatory_reads_process
from media.models import Media
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, UserFactory
from tests.media.factories import MediaFactory, ready_media

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def patch(client, post, **body):
    return client.patch(f"/api/v1/posts/{post.pk}", body, format="json")


def later(**kwargs):
    return (timezone.now() + timedelta(**kwargs)).isoformat()


# --- Groups ---------------------------------------------------------------------------------------


def test_moving_a_post_to_a_group_tells_the_old_audience_to_drop_it(api, leader, group, member, employee, events):
    post = services.post_create(author=leader, body="Kassa dicht om 17:00")
    events.clear()
    response = patch(api(leader), post, group_ids=[group.pk])
    assert response.status_code == 200, response.content
    card = response.json()
    assert card["audience"] == "groups" and [g["id"] for g in card["groups"]] == [group.pk] and card["edited_at"]
    deleted, updated = events
    assert deleted["type"] == "post.deleted" and deleted["org_wide"] is True
    assert updated["type"] == "post.updated" and updated["group_ids"] == [group.pk]
    assert api(employee).get(f"/api/v1/posts/{post.pk}").status_code == 404  # not in the group any more
    assert api(member).get(f"/api/v1/posts/{post.pk}").status_code == 200


def test_the_same_posting_rights_as_writing_apply_to_new_groups(api, org, group, member):
    closed = GroupFactory(organization=org, allow_member_posts=False)
    MembershipFactory(group=closed, user=member)
    post = services.post_create(author=member, body="Wie ruilt?", group_ids=[group.pk])
    client = api(member)
    assert patch(client, post, group_ids=[closed.pk]).status_code == 403  # members may not post there
    assert patch(client, post, group_ids=[GroupFactory(organization=org).pk]).status_code == 403  # not a member
    assert patch(client, post, group_ids=[]).status_code == 403  # org-wide is closed to employees
    assert Post.objects.get(pk=post.pk).org_wide is False


def test_only_the_author_edits_groups_and_text(api, leader, org, group):
    post = services.post_create(author=leader, body="Nieuw rooster")
    for other in (AdminFactory(organization=org), LeaderFactory(organization=org)):
        response = patch(api(other), post, body="Changed", group_ids=[group.pk])
        assert response.status_code == 403, other.role
    assert Post.objects.get(pk=post.pk).body == "Nieuw rooster"


def test_an_unknown_field_or_an_empty_text_is_refused(api, leader):
    post = services.post_create(author=leader, body="Hallo")
    assert patch(api(leader), post, kind="announcement").json()["error"]["code"] == "unknown_field"
    assert patch(api(leader), post, body="   ").status_code == 400


# --- Photos ---------------------------------------------------------------------------------------


def test_photos_are_added_reordered_and_dropped(api, leader, employee):
    first, second, third = ready_media(owner=leader), ready_media(owner=leader), ready_media(owner=leader)
    post = services.post_create(author=leader, body="Etalage", image_ids=[first.pk, second.pk])
    response = patch(api(leader), post, image_ids=[third.pk, first.pk])
    assert response.status_code == 200, response.content
    assert [image["id"] for image in response.json()["images"]] == [third.pk, first.pk]
    assert Media.objects.get(pk=second.pk).attached_at is None  # released: the orphan sweep deletes it
    assert api(employee).get(f"/api/v1/media/{third.pk}").status_code == 200  # claimed for the post's audience


def test_photos_follow_the_post_to_its_new_groups(api, leader, group, member, employee):
    photo = ready_media(owner=leader)
    post = services.post_create(author=leader, body="Etalage", image_ids=[photo.pk])
    assert patch(api(leader), post, group_ids=[group.pk]).status_code == 200
    assert api(member).get(f"/api/v1/media/{photo.pk}").status_code == 200
    assert api(employee).get(f"/api/v1/media/{photo.pk}").status_code == 404


def test_someone_elses_upload_is_a_400_on_image_ids(api, leader, employee):
    post = services.post_create(author=leader, body="Etalage")
    response = patch(api(leader), post, image_ids=[MediaFactory(owner=employee).pk])
    assert response.status_code == 400 and "image_ids" in response.json()["error"]["fields"]


def test_without_photos_the_text_may_not_be_empty(api, leader):
    photo = ready_media(owner=leader)
    post = services.post_create(author=leader, body="", image_ids=[photo.pk])
    assert patch(api(leader), post, image_ids=[]).status_code == 400
    assert patch(api(leader), post, image_ids=[], body="Toch tekst").status_code == 200


# --- Deadline -------------------------------------------------------------------------------------


def test_a_deadline_is_set_moved_and_cleared_on_a_mandatory_read(api, leader, settings):
    UserFactory(organization=leader.organization, date_joined=timezone.now() - timedelta(days=1))  # in the audience
    post = services.post_create(author=leader, body="Lees dit", kind="announcement", requires_acknowledgement=True)
    deadline = timezone.now() + timedelta(hours=30)
    response = patch(api(leader), post, acknowledgement_deadline=deadline.isoformat())
    assert response.status_code == 200 and response.json()["acknowledgement_deadline"]
    settings.FEED_ACK_REMINDER_OFFSETS_MINUTES = [24 * 60]
    assert mandatory_reads_process(now=deadline - timedelta(hours=23))["reminded"] == 1
    # Moved: the reminders of the new deadline are due again.
    assert patch(api(leader), post, acknowledgement_deadline=later(days=3)).status_code == 200
    assert not AcknowledgementReminder.objects.filter(post=post).exists()
    assert patch(api(leader), post, acknowledgement_deadline=None).json()["acknowledgement_deadline"] is None


@pytest.mark.parametrize("case", ["not_a_mandatory_read", "in_the_past"])
def test_a_deadline_follows_the_rules_of_create(api, leader, case):
    mandatory = case != "not_a_mandatory_read"
    post = services.post_create(author=leader, body="Lees dit", kind="announcement", requires_acknowledgement=mandatory)
    deadline = later(hours=-1) if case == "in_the_past" else later(days=1)
    response = patch(api(leader), post, acknowledgement_deadline=deadline)
    assert response.status_code == 400 and "acknowledgement_deadline" in response.json()["error"]["fields"]


# --- Schedule -------------------------------------------------------------------------------------


def test_the_author_reschedules_and_then_publishes_now(api, leader, events):
    post = services.post_create(author=leader, body="Later", publish_at=timezone.now() + timedelta(hours=2))
    new_time = timezone.now() + timedelta(days=1)
    response = patch(api(leader), post, publish_at=new_time.isoformat())
    assert response.status_code == 200 and response.json()["published_at"] is None
    assert Post.objects.get(pk=post.pk).publish_at == new_time
    assert response.json()["edited_at"] is None  # a new time is not an edit
    assert services.posts_publish_due(now=timezone.now() + timedelta(hours=3)) == 0  # the old time no longer counts
    response = patch(api(leader), post, publish_at=None)
    assert response.json()["published_at"] and response.json()["publish_at"] is None
    assert [event["type"] for event in events] == ["post.created"]


def test_a_published_post_cannot_be_rescheduled(api, leader):
    post = services.post_create(author=leader, body="Al live")
    response = patch(api(leader), post, publish_at=later(days=1))
    assert response.status_code == 400 and response.json()["error"]["code"] == "already_published"


def test_moving_the_schedule_past_the_deadline_is_refused(api, leader):
    post = services.post_create(
        author=leader,
        body="Lees dit",
        kind="announcement",
        requires_acknowledgement=True,
        publish_at=timezone.now() + timedelta(hours=1),
        acknowledgement_deadline=timezone.now() + timedelta(days=1),
    )
    response = patch(api(leader), post, publish_at=later(days=2))
    assert response.status_code == 400 and "acknowledgement_deadline" in response.json()["error"]["fields"]


def test_an_admin_reschedules_and_cancels_someone_elses_scheduled_post(api, leader, org):
    admin = AdminFactory(organization=org)
    post = services.post_create(author=leader, body="Later", publish_at=timezone.now() + timedelta(hours=2))
    client = api(admin)
    assert patch(client, post, publish_at=later(days=1)).status_code == 200
    assert patch(client, post, body="Mine now").status_code == 403  # the text stays the author's
    assert client.delete(f"/api/v1/posts/{post.pk}").status_code == 204
    assert services.posts_publish_due(now=timezone.now() + timedelta(days=2)) == 0


def test_another_leader_does_not_see_a_scheduled_post(api, leader, org):
    post = services.post_create(author=leader, body="Later", publish_at=timezone.now() + timedelta(hours=2))
    other = LeaderFactory(organization=org)
    assert patch(api(other), post, publish_at=later(days=1)).status_code == 404
    assert api(other).delete(f"/api/v1/posts/{post.pk}").status_code == 404


# --- The scheduled list ---------------------------------------------------------------------------


def test_scheduled_posts_list_the_authors_own_and_the_admins_all(api, leader, org):
    other = LeaderFactory(organization=org)
    soon = services.post_create(author=leader, body="Soon", publish_at=timezone.now() + timedelta(hours=1))
    later_post = services.post_create(author=leader, body="Later", publish_at=timezone.now() + timedelta(days=1))
    theirs = services.post_create(author=other, body="Theirs", publish_at=timezone.now() + timedelta(hours=5))
    services.post_create(author=leader, body="Live now")
    ids = lambda user: [card["id"] for card in api(user).get("/api/v1/posts", {"status": "scheduled"}).json()["results"]]  # noqa: E731
    assert ids(leader) == [soon.pk, later_post.pk]
    assert ids(AdminFactory(organization=org)) == [soon.pk, theirs.pk, later_post.pk]
    assert ids(UserFactory(organization=org)) == []
    assert ids(AdminFactory()) == []  # another organisation


def test_the_scheduled_list_needs_its_status(api, leader):
    assert api(leader).get("/api/v1/posts").status_code == 400
    assert api(leader).get("/api/v1/posts", {"status": "draft"}).status_code == 400


@pytest.mark.parametrize("page_size", [2, 20])
def test_the_scheduled_list_is_a_fixed_number_of_queries(api, org, django_assert_num_queries, page_size):
    admin = AdminFactory(organization=org)
    for index in range(21):
        author = LeaderFactory(organization=org)
        services.post_create(author=author, body=f"Later {index}", publish_at=timezone.now() + timedelta(hours=index + 1))
    client = api(admin)
    client.get("/api/v1/me")
    # The token; the page of posts with their authors; the cards' one query.
    with django_assert_num_queries(3):
        response = client.get("/api/v1/posts", {"status": "scheduled", "page_size": page_size})
    assert len(response.json()["results"]) == page_size


def test_an_archived_group_is_no_post_target(api, org, admin_user):
    from accounts.services.groups import group_archive

    group = GroupFactory(organization=org)
    group_archive(actor=admin_user, group=group)
    response = api(admin_user).post("/api/v1/posts", {"body": "Hallo", "group_ids": [group.pk]}, format="json")
    assert response.status_code == 400
    assert "group_ids" in response.json()["error"]["fields"]

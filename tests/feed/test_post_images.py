"""Photos on posts: claimed through media for the post's audience, shown in order, released on delete."""

import pytest

from feed import services
from media.models import Media, UserAvatar
from tests.factories import UserFactory
from tests.media.factories import MediaFactory, ready_media

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "uploads")
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}


def test_post_shows_its_images_in_the_chosen_order(api, leader, employee):
    first, second = ready_media(owner=leader), MediaFactory(owner=leader)
    response = api(leader).post("/api/v1/posts", {"body": "Nieuwe etalage", "image_ids": [second.pk, first.pk]}, format="json")
    assert response.status_code == 201
    images = response.json()["images"]
    assert [image["id"] for image in images] == [second.pk, first.pk]
    assert images[0]["status"] == "processing" and images[0]["variants"] is None
    assert images[1]["variants"] == {"thumbnail": f"/api/v1/media/{first.pk}/thumbnail", "large": f"/api/v1/media/{first.pk}/large"}
    assert api(employee).get(f"/api/v1/media/{first.pk}").status_code == 200  # org-wide post: the organisation sees it


def test_an_image_only_post_needs_no_body(api, leader):
    media = MediaFactory(owner=leader)
    assert api(leader).post("/api/v1/posts", {"body": "", "image_ids": [media.pk]}, format="json").status_code == 201


@pytest.mark.parametrize("case", ["someone_elses", "already_used", "too_many"])
def test_image_ids_the_author_may_not_use_are_a_400(api, leader, case):
    if case == "someone_elses":
        image_ids = [MediaFactory(owner=UserFactory(organization=leader.organization)).pk]
    elif case == "already_used":
        used = MediaFactory(owner=leader)
        services.post_create(author=leader, body="first", image_ids=[used.pk])
        image_ids = [used.pk]
    else:
        image_ids = [MediaFactory(owner=leader).pk for _ in range(11)]
    response = api(leader).post("/api/v1/posts", {"body": "x", "image_ids": image_ids}, format="json")
    assert response.status_code == 400
    assert "image_ids" in response.json()["error"]["fields"]


def test_group_post_images_are_for_the_group_only_and_go_with_the_post(api, group, member, employee, admin_user):
    media = MediaFactory(owner=member)
    post = services.post_create(author=member, body="Alleen voor ons team", group_ids=[group.pk], image_ids=[media.pk])
    assert api(employee).get(f"/api/v1/media/{media.pk}").status_code == 404
    assert api(admin_user).get(f"/api/v1/media/{media.pk}").status_code == 200
    services.post_delete(actor=member, post=post)
    assert Media.objects.get(pk=media.pk).attached_at is None  # the orphan sweep will delete it


def test_author_avatar_is_on_the_card(api, leader, employee):
    UserAvatar.objects.create(user=leader, media=ready_media(owner=leader, attached=True, org_wide=True))
    post = services.post_create(author=leader, body="Met foto")
    avatar = api(employee).get(f"/api/v1/posts/{post.pk}").json()["author"]["avatar"]
    assert avatar and avatar["thumbnail"].endswith("/thumbnail")

"""POST/DELETE /api/v1/me/avatar."""

import pytest

from media.models import Media, UserAvatar
from tests.factories import UserFactory
from tests.media.factories import MediaFactory, ready_media


def set_avatar(api, user, media_id):
    return api(user).post("/api/v1/me/avatar", {"media_id": media_id}, format="json")


def test_set_avatar_shows_it_to_colleagues(api, employee, org):
    photo = ready_media(owner=employee)

    response = set_avatar(api, employee, photo.pk)

    assert response.status_code == 200
    assert response.json()["variants"]["thumbnail"] == f"/api/v1/media/{photo.pk}/thumbnail"
    assert UserAvatar.objects.get(user=employee).media_id == photo.pk
    assert api(UserFactory(organization=org)).get(f"/api/v1/media/{photo.pk}/thumbnail").status_code == 200


def test_replacing_the_avatar_releases_the_old_picture(api, employee):
    first, second = ready_media(owner=employee), ready_media(owner=employee)
    set_avatar(api, employee, first.pk)

    assert set_avatar(api, employee, second.pk).status_code == 200

    assert UserAvatar.objects.get(user=employee).media_id == second.pk
    first.refresh_from_db()
    assert first.attached_at is None and not first.org_wide  # the orphan sweep takes it


def test_someone_elses_upload_is_400_on_media_id(api, employee, org, other_org):
    for owner in (UserFactory(organization=org), UserFactory(organization=other_org)):
        response = set_avatar(api, employee, MediaFactory(owner=owner).pk)
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == ["media_id"]
    assert not UserAvatar.objects.exists()


def test_a_picture_already_used_in_a_post_cannot_become_the_avatar(api, employee):
    photo = ready_media(owner=employee, attached=True, org_wide=True)
    assert set_avatar(api, employee, photo.pk).status_code == 400


def test_remove_avatar(api, employee):
    photo = ready_media(owner=employee)
    set_avatar(api, employee, photo.pk)

    assert api(employee).delete("/api/v1/me/avatar").status_code == 204
    assert api(employee).delete("/api/v1/me/avatar").status_code == 204  # nothing left: still fine
    assert not UserAvatar.objects.exists()
    assert Media.objects.get(pk=photo.pk).attached_at is None


def test_the_avatar_is_read_through_a_string_named_relation(employee, django_assert_num_queries):
    """What accounts' UserSummarySerializer can do without importing media."""
    from accounts.models import User

    photo = ready_media(owner=employee)
    UserAvatar.objects.create(user=employee, media=photo)
    colleague_without = UserFactory(organization=employee.organization)

    with django_assert_num_queries(1):
        people = list(User.objects.filter(pk__in=[employee.pk, colleague_without.pk]).select_related("avatar__media").order_by("pk"))
        avatars = [getattr(getattr(person, "avatar", None), "media", None) for person in people]
        urls = [media.variant_urls() if media else None for media in avatars]
    assert urls == [{"thumbnail": f"/api/v1/media/{photo.pk}/thumbnail", "large": f"/api/v1/media/{photo.pk}/large"}, None]


def test_anonymous_is_401(api):
    assert api().post("/api/v1/me/avatar", {"media_id": 1}, format="json").status_code == 401
    assert api().delete("/api/v1/me/avatar").status_code == 401


@pytest.mark.parametrize("count", [2, 12])
def test_avatars_show_on_me_and_the_directory_without_extra_queries(api, employee, count, django_assert_num_queries):
    from tests.factories import UserFactory

    for _ in range(count):
        colleague = UserFactory(organization=employee.organization)
        api(colleague).post("/api/v1/me/avatar", {"media_id": ready_media(owner=colleague).pk}, format="json")
    client = api(employee)
    assert client.post("/api/v1/me/avatar", {"media_id": ready_media(owner=employee).pk}, format="json").status_code == 200
    me = client.get("/api/v1/me").json()
    assert set(me["avatar"]) == {"thumbnail", "large"}
    with django_assert_num_queries(3):
        people = client.get("/api/v1/users?page_size=100").json()["results"]
    assert all(person["avatar"] for person in people)

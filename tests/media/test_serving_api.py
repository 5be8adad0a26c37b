"""GET /api/v1/media/{id} and its variants: who may see them, and how they are served."""

import pytest
from django.core.files.storage import default_storage

from media.models import Media
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, UserFactory
from tests.media.factories import MediaFactory, ready_media

ROUTES = ["/api/v1/media/{id}", "/api/v1/media/{id}/thumbnail", "/api/v1/media/{id}/large"]


def fetch(client, media: Media, route: str = "/api/v1/media/{id}"):
    return client.get(route.format(id=media.pk))


@pytest.fixture
def group_photo(member, group):
    """A photo a member posted to their group only."""
    return ready_media(owner=UserFactory(organization=group.organization), attached=True, group_ids=[group.pk])


@pytest.mark.parametrize("route", ROUTES)
def test_the_audience_may_fetch_a_group_photo(api, group_photo, member, route):
    assert fetch(api(member), group_photo, route).status_code == 200


@pytest.mark.parametrize("route", ROUTES)
def test_a_colleague_outside_the_group_gets_404(api, group_photo, employee, route):
    response = fetch(api(employee), group_photo, route)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("route", ROUTES)
def test_another_organisation_gets_404_even_its_admin(api, group_photo, other_org, route):
    assert fetch(api(AdminFactory(organization=other_org)), group_photo, route).status_code == 404
    org_wide = ready_media(owner=group_photo.owner, attached=True, org_wide=True)
    assert fetch(api(UserFactory(organization=other_org)), org_wide, route).status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_gets_401(api, group_photo, route):
    response = fetch(api(), group_photo, route)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_unattached_upload_is_its_owners_only(api, employee, org):
    upload = ready_media(owner=employee)
    assert fetch(api(employee), upload).status_code == 200
    assert fetch(api(UserFactory(organization=org)), upload).status_code == 404
    assert fetch(api(AdminFactory(organization=org)), upload).status_code == 404


def test_org_wide_photos_are_for_everyone_in_the_organisation(api, employee, org):
    photo = ready_media(owner=employee, attached=True, org_wide=True)
    assert fetch(api(UserFactory(organization=org)), photo).status_code == 200


def test_admins_see_attached_photos_of_groups_they_are_not_in(api, group_photo, admin_user):
    # They moderate what is posted everywhere in their organisation.
    assert fetch(api(admin_user), group_photo).status_code == 200


def test_leaving_the_group_takes_the_photo_away(api, group_photo, member, group):
    group.memberships.filter(user=member).delete()
    assert fetch(api(member), group_photo).status_code == 404


def test_a_variant_is_served_with_its_type_nosniff_and_a_long_private_cache(api, group_photo, member):
    response = fetch(api(member), group_photo, "/api/v1/media/{id}/thumbnail")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"
    with default_storage.open(group_photo.thumbnail_path) as stored:
        assert response.content == stored.read()


def test_image_loaders_accept_header_is_fine(api, group_photo, member):
    response = api(member).get(f"/api/v1/media/{group_photo.pk}/large", HTTP_ACCEPT="image/webp,image/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"


def test_jpeg_variants_say_so(api, employee):
    photo = ready_media(owner=employee)
    Media.objects.filter(pk=photo.pk).update(variant_format="jpeg")
    assert fetch(api(employee), photo, "/api/v1/media/{id}/large")["Content-Type"] == "image/jpeg"


def test_a_cached_copy_is_confirmed_with_304(api, group_photo, member):
    client = api(member)
    etag = fetch(client, group_photo, "/api/v1/media/{id}/large")["ETag"]

    response = client.get(f"/api/v1/media/{group_photo.pk}/large", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["Cache-Control"] == "private, max-age=31536000, immutable"


def test_variants_of_an_upload_still_processing_are_not_found(api, employee):
    media = MediaFactory(owner=employee)
    response = fetch(api(employee), media, "/api/v1/media/{id}/thumbnail")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_ready"
    assert fetch(api(employee), media).json()["status"] == "processing"


def test_with_redirects_on_the_variant_view_answers_with_the_storage_url(api, group_photo, member, settings, monkeypatch):
    settings.MEDIA_SERVE_REDIRECT = True
    monkeypatch.setattr(default_storage, "url", lambda path: f"https://bucket.example/{path}?X-Amz-Signature=abc")

    response = fetch(api(member), group_photo, "/api/v1/media/{id}/large")
    assert response.status_code == 302
    assert response["Location"] == f"https://bucket.example/{group_photo.large_path}?X-Amz-Signature=abc"
    assert response["Cache-Control"] == "private, max-age=60"
    # The check comes first: no URL for someone outside the audience.
    assert fetch(api(UserFactory(organization=member.organization)), group_photo, "/api/v1/media/{id}/large").status_code == 404


def test_query_counts_do_not_depend_on_the_viewers_groups(api, group_photo, member, django_assert_num_queries):
    client = api(member)
    fetch(client, group_photo)  # the token's last_used_at is written once, outside the count
    # auth (token + user) + the one visibility query.
    with django_assert_num_queries(2):
        assert fetch(client, group_photo).status_code == 200
    with django_assert_num_queries(2):
        assert fetch(client, group_photo, "/api/v1/media/{id}/thumbnail").status_code == 200

    for _ in range(5):
        MembershipFactory(user=member, group=GroupFactory(organization=member.organization))
    with django_assert_num_queries(2):
        assert fetch(client, group_photo).status_code == 200


def test_the_tenancy_harness_fixture_gives_a_photo_other_organisations_cannot_reach(api, member, group, other_org):
    from types import SimpleNamespace

    from tests.security.tenancy_media import TENANCY_FIXTURES

    world = SimpleNamespace(org_a=group.organization, employee_a=member, group_a=group)
    media_id = TENANCY_FIXTURES["media_id"](world)
    outsider = api(AdminFactory(organization=other_org))
    for route in ROUTES:
        assert outsider.get(route.format(id=media_id)).status_code == 404
    assert api(member).get(f"/api/v1/media/{media_id}").status_code == 200


def test_image_loads_have_their_own_budget_not_the_apis(api, group_photo, member, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "2/min")
    client = api(member)
    assert [fetch(client, group_photo, "/api/v1/media/{id}/thumbnail").status_code for _ in range(4)] == [200] * 4
    assert [fetch(client, group_photo).status_code for _ in range(3)] == [200, 200, 429]


def test_rendering_loaded_rows_costs_no_query(employee, django_assert_num_queries):
    from media.serializers import media_representation

    for count in (1, 5):
        rows = list(Media.objects.filter(pk__in=[ready_media(owner=employee).pk for _ in range(count)]))
        with django_assert_num_queries(0):
            rendered = [media_representation(media) for media in rows]
        assert all(item["variants"]["large"].endswith("/large") for item in rendered)

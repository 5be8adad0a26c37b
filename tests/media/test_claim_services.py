"""media_claim and friends: the interface posts, kudos and avatars attach images through."""

import threading

import pytest
from django.db import connection, transaction

from media.models import Media, MediaAudienceGroup, MediaStatus
from media.services import media_audience_set, media_claim, media_detach
from server.api.exceptions import ValidationFailed
from tests.conftest import requires_postgres
from tests.factories import GroupFactory, UserFactory
from tests.media.factories import MediaFactory, ready_media


def claim_error(**kwargs) -> dict:
    with pytest.raises(ValidationFailed) as failure:
        media_claim(**kwargs)
    return failure.value.fields


def test_claims_in_the_callers_order_and_marks_attached(employee, group):
    uploads = [MediaFactory(owner=employee) for _ in range(3)]
    wanted = [uploads[2].pk, uploads[0].pk, uploads[1].pk]

    claimed = media_claim(owner=employee, media_ids=wanted, max_count=10, audience_group_ids=[group.pk])

    assert [media.pk for media in claimed] == wanted
    assert all(media.attached_at is not None for media in claimed)
    assert Media.objects.filter(attached_at__isnull=False).count() == 3
    assert set(MediaAudienceGroup.objects.values_list("media_id", "group_id")) == {(pk, group.pk) for pk in wanted}


def test_processing_uploads_may_be_claimed_and_show_when_ready(employee):
    (media,) = media_claim(owner=employee, media_ids=[MediaFactory(owner=employee).pk], max_count=1)
    assert media.status == MediaStatus.PROCESSING


def test_nothing_to_claim_is_no_query(employee, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert media_claim(owner=employee, media_ids=[], max_count=10) == []


def test_query_count_is_the_same_for_one_and_ten_images(employee, group, django_assert_num_queries):
    for count in (1, 10):
        ids = [MediaFactory(owner=employee).pk for _ in range(count)]
        # savepoint, lock, mark, audience rows, release.
        with django_assert_num_queries(5):
            media_claim(owner=employee, media_ids=ids, max_count=10, audience_group_ids=[group.pk])


def test_another_users_upload_is_400_on_the_callers_field(employee, org):
    colleagues = MediaFactory(owner=UserFactory(organization=org))
    fields = claim_error(owner=employee, media_ids=[colleagues.pk], max_count=10, field="image_ids")
    assert list(fields) == ["image_ids"]
    assert Media.objects.get(pk=colleagues.pk).attached_at is None


def test_another_organisations_upload_reads_like_a_missing_one(employee, other_org):
    foreign = MediaFactory(owner=UserFactory(organization=other_org))
    foreign_message = claim_error(owner=employee, media_ids=[foreign.pk], max_count=1, field="image_id")["image_id"]
    missing_message = claim_error(owner=employee, media_ids=[foreign.pk + 1000], max_count=1, field="image_id")["image_id"]
    assert foreign_message[0].replace(str(foreign.pk), "N") == missing_message[0].replace(str(foreign.pk + 1000), "N")


def test_an_upload_is_used_once(employee):
    media = MediaFactory(owner=employee)
    media_claim(owner=employee, media_ids=[media.pk], max_count=1)
    assert "already used" in claim_error(owner=employee, media_ids=[media.pk], max_count=1)["image_ids"][0]


def test_failed_uploads_cannot_be_claimed(employee):
    media = MediaFactory(owner=employee, status=MediaStatus.FAILED)
    assert claim_error(owner=employee, media_ids=[media.pk], max_count=1)["image_ids"]


def test_more_than_allowed_and_duplicates_are_400(employee):
    ids = [MediaFactory(owner=employee).pk for _ in range(3)]
    assert claim_error(owner=employee, media_ids=ids, max_count=2)["image_ids"]
    assert claim_error(owner=employee, media_ids=[ids[0], ids[0]], max_count=10)["image_ids"]
    assert not Media.objects.filter(attached_at__isnull=False).exists()


def test_one_bad_id_claims_nothing(employee, org):
    mine = MediaFactory(owner=employee)
    theirs = MediaFactory(owner=UserFactory(organization=org))
    fields = claim_error(owner=employee, media_ids=[mine.pk, theirs.pk], max_count=10)
    assert len(fields["image_ids"]) == 1
    assert Media.objects.get(pk=mine.pk).attached_at is None


def test_audience_can_move_and_detached_images_go_back_to_the_owner(api, employee, group, org):
    other_group = GroupFactory(organization=org)
    photo = ready_media(owner=employee, attached=True, group_ids=[group.pk])
    colleague = UserFactory(organization=org)

    media_audience_set(media_ids=[photo.pk], org_wide=True)
    assert api(colleague).get(f"/api/v1/media/{photo.pk}").status_code == 200
    media_audience_set(media_ids=[photo.pk], org_wide=False, audience_group_ids=[other_group.pk])
    assert list(MediaAudienceGroup.objects.values_list("group_id", flat=True)) == [other_group.pk]
    assert api(colleague).get(f"/api/v1/media/{photo.pk}").status_code == 404

    media_detach(media_ids=[photo.pk])
    photo.refresh_from_db()
    assert (photo.attached_at, photo.org_wide, photo.audience_links.count()) == (None, False, 0)
    assert api(employee).get(f"/api/v1/media/{photo.pk}").status_code == 200


@requires_postgres()
@pytest.mark.django_db(transaction=True)
def test_two_posts_racing_for_one_image_attach_it_once():
    owner = UserFactory()
    media = MediaFactory(owner=owner)
    barrier = threading.Barrier(2)
    outcomes = []

    def claim():
        try:
            barrier.wait()
            with transaction.atomic():
                media_claim(owner=owner, media_ids=[media.pk], max_count=1)
            outcomes.append("claimed")
        except ValidationFailed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["claimed", "refused"]

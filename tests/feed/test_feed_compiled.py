"""The feed page's queries compiled once per shape: same posts as the querysets they come from,
and nothing of one call (organisation, user, group, kind, cursor) ever reaches another."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feed import selectors
from feed.models import Post
from feed.selectors import feed as feed_selectors
from server.api.pagination import keyset_filter
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.feed.factories import PostFactory, group_post

pytestmark = pytest.mark.django_db


def pks(posts):
    return [post.pk for post in posts]


def orm_page(user, *, group_id=None, kind=None, cursor=None, reverse=False, limit=20):
    queryset = selectors.feed_list(user=user, group_id=group_id, kind=kind)
    if cursor is not None:
        queryset = queryset.filter(keyset_filter(selectors.FEED_ORDERING, cursor, after=not reverse))
    if reverse:
        queryset = queryset.reverse()
    return list(queryset[:limit])


@pytest.fixture
def two_companies():
    """Two organisations with the same layout: org-wide posts, two groups, a leader's post to a
    group they are not in, pins, kinds, and timestamps that tie (the cursor needs the id)."""
    companies = []
    base = timezone.now() - timedelta(days=1)
    for _ in range(2):
        org = OrganizationFactory()
        leader, admin, loner = LeaderFactory(organization=org), AdminFactory(organization=org), UserFactory(organization=org)
        groups = [GroupFactory(organization=org) for _ in range(2)]
        members = [MembershipFactory(group=group).user for group in groups]
        for index in range(12):
            at = base + timedelta(minutes=index // 3)
            kind = "announcement" if index % 4 == 0 else "post"
            PostFactory(author=leader, kind=kind, published_at=at)
            group_post(groups[index % 2], author=leader, kind=kind, published_at=at)
        group_post(GroupFactory(organization=org), author=leader, published_at=base)  # a group the leader is not in
        for post in Post.objects.filter(organization=org).order_by("id")[:3]:
            Post.objects.filter(pk=post.pk).update(pinned=True, pinned_at=post.published_at)
        companies.append({"leader": leader, "admin": admin, "loner": loner, "members": members, "groups": groups})
    return companies


def test_compiled_pages_match_the_querysets_for_every_shape(two_companies):
    for company in two_companies:
        people = [company["leader"], company["admin"], company["loner"], *company["members"]]
        for user in people:
            for group_id in (None, *[group.pk for group in company["groups"]]):
                for kind in (None, "announcement"):
                    first = selectors.feed_page(user=user, group_id=group_id, kind=kind, cursor=None, reverse=False, limit=4)
                    assert pks(first) == pks(orm_page(user, group_id=group_id, kind=kind, limit=4))
                    if first:
                        cursor = [first[-1].published_at, first[-1].pk]
                        after = selectors.feed_page(user=user, group_id=group_id, kind=kind, cursor=cursor, reverse=False, limit=4)
                        assert pks(after) == pks(orm_page(user, group_id=group_id, kind=kind, cursor=cursor, limit=4))
                        before = selectors.feed_page(user=user, group_id=group_id, kind=kind, cursor=cursor, reverse=True, limit=4)
                        assert pks(before) == pks(orm_page(user, group_id=group_id, kind=kind, cursor=cursor, reverse=True, limit=4))
                    pinned = selectors.feed_pinned(user=user, group_id=group_id, kind=kind)
                    orm_pinned = selectors.feed_visible(user=user, group_id=group_id, kind=kind).filter(pinned=True)
                    assert pks(pinned) == pks(orm_pinned.order_by("-pinned_at", "-id"))


def test_one_compiled_shape_serves_each_caller_their_own_posts(two_companies):
    """Members of different groups, in different organisations, one after the other through the
    same compiled query: each gets exactly their own feed (no value of a call is kept)."""
    feed_selectors._compiled_feed_query.cache_clear()
    callers = [two_companies[0]["members"][0], two_companies[1]["members"][1], two_companies[0]["members"][1], two_companies[1]["loner"]]
    pages = [selectors.feed_page(user=user, cursor=None, reverse=False, limit=50) for user in callers]
    info = feed_selectors._compiled_feed_query.cache_info()
    assert (info.misses, info.hits) == (1, 3)  # one shape: employees, no filter, first page, 50

    for user, page in zip(callers, pages, strict=True):
        assert pks(page) == pks(orm_page(user, limit=50))
        assert {post.organization_id for post in page} == {user.organization_id}
        assert all(post.author.organization_id == user.organization_id for post in page)
    # Different groups of one organisation: each member sees their group's posts, not the other's.
    groups = two_companies[0]["groups"]
    of_group = [set(Post.objects.filter(groups=group, pinned=False).values_list("pk", flat=True)) for group in groups]
    assert of_group[0] <= set(pks(pages[0])) and not of_group[1] & set(pks(pages[0]))
    assert of_group[1] <= set(pks(pages[2])) and not of_group[0] & set(pks(pages[2]))


def test_a_group_filter_of_another_organisation_shows_nothing(two_companies):
    user = two_companies[0]["members"][0]
    foreign_group = two_companies[1]["groups"][0]
    assert selectors.feed_page(user=user, group_id=foreign_group.pk, cursor=None, reverse=False, limit=20) == []
    assert selectors.feed_pinned(user=user, group_id=foreign_group.pk) == []
    # the same shape right after, with the caller's own group, is not affected by the call before
    own = two_companies[0]["groups"][0]
    assert pks(selectors.feed_page(user=user, group_id=own.pk, cursor=None, reverse=False, limit=20)) == pks(
        orm_page(user, group_id=own.pk, limit=20)
    )


def test_compiled_posts_come_with_their_author_and_avatar_loaded(two_companies, django_assert_num_queries):
    user = two_companies[0]["leader"]
    with django_assert_num_queries(1):
        posts = selectors.feed_page(user=user, cursor=None, reverse=False, limit=5)
        assert all(post.author.name and "avatar" in post.author._state.fields_cache for post in posts)
    expected = {post.pk: post for post in orm_page(user, limit=5)}
    for post in posts:
        twin = expected[post.pk]
        assert [getattr(post, field.attname) for field in Post._meta.concrete_fields] == [
            getattr(twin, field.attname) for field in Post._meta.concrete_fields
        ]
        assert post.author.name == twin.author.name and post.published_at.tzinfo is not None


def orm_updates(user, since_at, since_id):
    return feed_selectors._updates_queryset(
        organization_id=user.organization_id,
        user_id=user.pk,
        is_admin=user.is_org_admin,
        since_at=since_at,
        since_id=since_id,
        limit=feed_selectors.UPDATES_LIMIT + 1,
    )


def test_compiled_catch_up_matches_its_queryset_for_every_reader_and_cursor(two_companies):
    """The catch-up (`/feed/updates`) runs from one statement compiled per alias and role: the
    same changes, in the same order, as the queryset it comes from, for every reader of both
    organisations, from several cursors (ties on updated_at included), paging to the end."""
    Post.objects.filter(pk__in=Post.objects.order_by("id").values("pk")[:6]).update(removed_at=timezone.now())
    now = timezone.now()
    stamps = sorted(set(Post.objects.values_list("updated_at", flat=True)))
    feed_selectors._compiled_updates_query.cache_clear()
    for company in two_companies:
        for user in [company["leader"], company["admin"], company["loner"], *company["members"]]:
            for since_at, since_id in [(stamps[0] - timedelta(seconds=1), 0), (stamps[len(stamps) // 2], 0), (stamps[-1], 0)]:
                changes = selectors.post_updates(user=user, since=(since_at, since_id), now=now + timedelta(seconds=10))
                expected = list(orm_updates(user, since_at, since_id))[: feed_selectors.UPDATES_LIMIT]
                assert changes.ordered_ids == [post.pk for post in expected if post.removed_at or post.published_at]
                assert {post.organization_id for post in expected} <= {user.organization_id}
    info = feed_selectors._compiled_updates_query.cache_info()
    assert info.misses == 2  # one statement for readers, one for admins


def test_catch_up_pages_through_ties_on_updated_at(two_companies, monkeypatch):
    """Pages of 5 over posts sharing updated_at: every change exactly once, through the cursor."""
    monkeypatch.setattr(feed_selectors, "UPDATES_LIMIT", 5)
    user = two_companies[0]["admin"]
    same = timezone.now() - timedelta(minutes=5)
    Post.objects.filter(organization_id=user.organization_id).update(updated_at=same)
    everything = set(Post.objects.filter(organization_id=user.organization_id).values_list("pk", flat=True))
    seen, since = [], (same - timedelta(seconds=1), 0)
    for _ in range(50):
        changes = selectors.post_updates(user=user, since=since)
        seen += changes.ordered_ids
        since = changes.cursor
        if not changes.has_more:
            break
    assert len(seen) == len(set(seen)) and set(seen) == everything

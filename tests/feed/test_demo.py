import pytest

from accounts import demo as accounts_demo
from feed import demo
from feed.models import Acknowledgement, Comment, Goal, GoalUpdate, KeyMoment, Poll, PollVote, Post

pytestmark = pytest.mark.django_db


def test_demo_feed_is_lived_in_and_idempotent(api):
    context = accounts_demo.seed()
    demo.seed(context)
    counts = (Post.objects.count(), Comment.objects.count(), Acknowledgement.objects.count())
    demo.seed(accounts_demo.seed())
    assert (Post.objects.count(), Comment.objects.count(), Acknowledgement.objects.count()) == counts
    # the history, the mandatory read and the poll
    assert Post.objects.filter(kind__in=["post", "announcement"]).count() == demo.POST_COUNT + 2
    assert counts[1] > 100 and counts[2] > 0
    assert Post.objects.filter(pinned=True, requires_acknowledgement=True).count() == 2
    assert Goal.objects.count() == 3 and GoalUpdate.objects.count() == 7
    assert list(KeyMoment.objects.order_by("position").values_list("position", flat=True)) == [1, 2, 3, 4, 5]
    assert Goal.objects.filter(status="achieved").count() == 1
    deadline_post = Post.objects.get(acknowledgement_deadline__isnull=False)
    acknowledged = Acknowledgement.objects.filter(post=deadline_post).count()
    assert 0 < acknowledged < len(context.everyone)
    poll = Poll.objects.get()
    assert poll.voter_count == PollVote.objects.count() > len(context.everyone) // 2 and poll.results == "after_vote"
    page = api(context.employees[0]).get("/api/v1/feed").json()
    assert page["results"][0]["pinned"] and page["next"]


def test_pinned_demo_announcements_show_their_real_audience(api):
    from accounts.models import User

    context = accounts_demo.seed()
    demo.seed(context)
    for post in Post.objects.filter(pinned=True, requires_acknowledgement=True):
        reach = api(post.author).get(f"/api/v1/posts/{post.pk}/reach").json()
        everyone_else = User.objects.filter(organization=post.organization, is_active=True).exclude(pk=post.author_id).count()
        assert reach["audience_count"] == everyone_else > 0
        assert reach["acknowledged_count"] == Acknowledgement.objects.filter(post=post).exclude(user=post.author).count() > 0

import pytest

from accounts import demo as accounts_demo
from feed import demo
from feed.models import Acknowledgement, Comment, Post

pytestmark = pytest.mark.django_db


def test_demo_feed_is_lived_in_and_idempotent(api):
    context = accounts_demo.seed()
    demo.seed(context)
    counts = (Post.objects.count(), Comment.objects.count(), Acknowledgement.objects.count())
    demo.seed(accounts_demo.seed())
    assert (Post.objects.count(), Comment.objects.count(), Acknowledgement.objects.count()) == counts
    assert counts[0] == demo.POST_COUNT and counts[1] > 100 and counts[2] > 0
    assert Post.objects.filter(pinned=True, requires_acknowledgement=True).count() == 2
    page = api(context.employees[0]).get("/api/v1/feed").json()
    assert page["results"][0]["pinned"] and page["next"]

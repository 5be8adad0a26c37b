"""Factories for feed rows. Posts made here skip the services (no events, no rights checks)."""

import factory
from django.utils import timezone

from feed.models import Comment, Post, PostGroup
from tests.factories import UserFactory


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    author = factory.SubFactory(UserFactory)
    organization = factory.SelfAttribute("author.organization")
    kind = "post"
    body = factory.Sequence(lambda n: f"Post number {n}")
    org_wide = True
    published_at = factory.LazyFunction(timezone.now)


def group_post(group, **kwargs) -> Post:
    post = PostFactory(org_wide=False, organization=group.organization, **kwargs)
    PostGroup.objects.create(post=post, group=group)
    return post


class CommentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Comment

    post = factory.SubFactory(PostFactory)
    author = factory.SubFactory(UserFactory, organization=factory.SelfAttribute("..post.organization"))
    body = factory.Sequence(lambda n: f"Comment {n}")

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from feed.models import Comment, Goal, KeyMoment, Post
from feed.text import MENTION_PATTERN
from server.admin_site import OrganizationScopedAdmin, person_column

LIST_TEXT_CHARS = 60


def attach_mention_names(rows: Iterable[Any], *, text: str = "body", organization: str = "organization_id") -> None:
    """Give each row `mention_names` (id -> name) for the `@[user:ID]` in its text: one query for a page.

    Only people of the row's own organisation are named; any other id stays a nameless mention.
    """
    rows = list(rows)
    ids = {int(match) for row in rows for match in MENTION_PATTERN.findall(getattr(row, text) or "")}
    people = {
        pk: (organization_id, name)
        for pk, organization_id, name in User.objects.filter(pk__in=ids).values_list("pk", "organization_id", "name")
    }
    for row in rows:
        own = _organization_id(row, organization)
        row.mention_names = {pk: name for pk, (organization_id, name) in people.items() if organization_id == own}


def _organization_id(row: Any, path: str) -> int | None:
    for step in path.split("."):
        row = getattr(row, step, None)
    return row


def readable_text(text: str, names: dict[int, str] | None, *, chars: int = LIST_TEXT_CHARS) -> str:
    """A body for a list column: mentions as @Name, one line, shortened. Plain text: the admin escapes it."""
    names = names or {}
    shown = MENTION_PATTERN.sub(lambda match: "@" + names.get(int(match.group(1)), gettext("someone")), text or "")
    return Truncator(" ".join(shown.split())).chars(chars)


class ReadableTextAdmin(OrganizationScopedAdmin):
    """A list of rows with people's text: mentions named for the whole page at once."""

    mention_text_field = "body"
    mention_organization_path = "organization_id"

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        # Evaluates the page's queryset once; the template iterates the same (cached) rows.
        attach_mention_names(changelist.result_list, text=self.mention_text_field, organization=self.mention_organization_path)
        return changelist

    @admin.display(description=_("text"))
    def text(self, row: Any) -> str:
        return readable_text(getattr(row, self.mention_text_field), getattr(row, "mention_names", None))


@admin.register(Post)
class PostAdmin(ReadableTextAdmin):
    # Posts change through the API and the moderation queue (events reach phones); here they are looked at.
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["id", "organization", "kind", person_column("author", _("author")), "text", "published_at", "state"]
    list_display_links = ["id", "text"]
    list_filter = ["kind", "pinned"]
    list_select_related = ["author", "organization"]
    raw_id_fields = ["organization", "author", "removed_by"]
    search_fields = ["body"]

    @admin.display(description=_("state"))
    def state(self, post: Post) -> str:
        if post.removed_at:
            return gettext("removed")
        if post.hidden_at:
            return gettext("hidden")
        if post.published_at is None:
            return gettext("scheduled") if post.publish_at else gettext("not published")
        return gettext("pinned") if post.pinned else gettext("published")


@admin.register(Comment)
class CommentAdmin(ReadableTextAdmin):
    organization_lookup = "post__organization"
    mention_organization_path = "post.organization_id"
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["id", "post", person_column("author", _("author")), "text", "created_at", "state"]
    list_display_links = ["id", "text"]
    list_select_related = ["author", "post"]
    raw_id_fields = ["post", "author"]
    search_fields = ["body"]

    @admin.display(description=_("state"))
    def state(self, comment: Comment) -> str:
        if comment.removed_at:
            return gettext("removed")
        return gettext("hidden") if comment.hidden_at else gettext("visible")


@admin.register(Goal)
class GoalAdmin(OrganizationScopedAdmin):
    list_display = ["title", "organization", person_column("owner", _("owner")), "status", "current_value", "target_value", "due_date"]
    list_filter = ["status", "organization"]
    list_select_related = ["owner", "organization"]
    search_fields = ["title"]
    readonly_fields = ["achieved_at", "created_at", "updated_at"]


@admin.register(KeyMoment)
class KeyMomentAdmin(OrganizationScopedAdmin):
    list_display = ["title", "organization", "position", person_column("created_by", _("created by"))]
    list_filter = ["organization"]
    list_select_related = ["created_by", "organization"]
    search_fields = ["title"]
    readonly_fields = ["created_at", "updated_at"]

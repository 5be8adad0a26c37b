from django.contrib import admin
from django.utils.text import Truncator

from feed.models import Comment, Goal, KeyMoment, Post
from server.admin_site import OrganizationScopedAdmin


def _excerpt(text: str) -> str:
    # Plain text from people: the admin escapes it (never mark_safe), shortened for the list.
    return Truncator(text).chars(80)


@admin.register(Post)
class PostAdmin(OrganizationScopedAdmin):
    # Posts change through the API and the moderation queue (events reach phones); here they are looked at.
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["id", "organization", "kind", "author", "excerpt", "published_at", "pinned", "removed_at", "hidden_at"]
    list_filter = ["kind", "pinned"]
    list_select_related = ["author", "organization"]
    raw_id_fields = ["organization", "author", "removed_by"]
    search_fields = ["body"]

    @admin.display(description="body")
    def excerpt(self, post: Post) -> str:
        return _excerpt(post.body)


@admin.register(Comment)
class CommentAdmin(OrganizationScopedAdmin):
    organization_lookup = "post__organization"
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = ["id", "post", "author", "excerpt", "created_at", "removed_at", "hidden_at"]
    list_select_related = ["author"]
    raw_id_fields = ["post", "author"]
    search_fields = ["body"]

    @admin.display(description="body")
    def excerpt(self, comment: Comment) -> str:
        return _excerpt(comment.body)


@admin.register(Goal)
class GoalAdmin(OrganizationScopedAdmin):
    list_display = ["title", "organization", "owner", "status", "current_value", "target_value", "due_date"]
    list_filter = ["status", "organization"]
    list_select_related = ["owner", "organization"]
    search_fields = ["title"]
    readonly_fields = ["achieved_at", "created_at", "updated_at"]


@admin.register(KeyMoment)
class KeyMomentAdmin(OrganizationScopedAdmin):
    list_display = ["title", "organization", "position", "created_by"]
    list_filter = ["organization"]
    list_select_related = ["created_by", "organization"]
    search_fields = ["title"]
    readonly_fields = ["created_at", "updated_at"]

from django.contrib import admin

from feed.models import Comment, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["id", "organization", "kind", "author", "published_at", "pinned", "removed_at", "hidden_at"]
    list_filter = ["kind", "pinned"]
    raw_id_fields = ["organization", "author", "removed_by"]
    search_fields = ["body"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["id", "post", "author", "created_at", "removed_at", "hidden_at"]
    raw_id_fields = ["post", "author"]

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feed.admin import readable_text
from server.admin_site import OrganizationScopedAdmin, person_column
from voice.models import Signal


@admin.register(Signal)
class SignalAdmin(OrganizationScopedAdmin):
    # Signals change through the API (events reach the author and supporters); here they are looked at.
    # The author is never a field, a filter, a search or a sort key here: an anonymous signal's
    # author is shown to nobody, superusers included (`author_shown`).
    org_admin_can_add = False
    org_admin_can_change = False
    list_display = [
        "id",
        "organization",
        "kind",
        "title_text",
        "author_shown",
        "status",
        person_column("owner", _("owner")),
        "support_count",
    ]
    list_display_links = ["id", "title_text"]
    list_filter = ["kind", "status", "visibility"]
    list_select_related = ["author", "owner", "organization"]
    search_fields = ["title", "body"]
    fields = [
        "organization",
        "kind",
        "title",
        "body",
        "author_shown",
        "anonymous",
        "visibility",
        "status",
        "owner",
        "key_moment",
        "group",
        "support_count",
        "group_count",
        "merged_into",
        "created_at",
        "first_response_at",
        "resolved_at",
        "hidden_at",
        "hidden_reason",
    ]
    readonly_fields = ["author_shown", "support_count", "group_count", "created_at", "first_response_at", "resolved_at"]
    raw_id_fields = ["organization", "owner", "key_moment", "group", "merged_into"]

    @admin.display(description=_("title"))
    def title_text(self, signal: Signal) -> str:
        return readable_text(signal.title, None)

    @admin.display(description=_("author"))
    def author_shown(self, signal: Signal) -> str:
        return gettext("anonymous") if signal.anonymous else signal.author.name

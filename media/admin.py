from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from media.models import Media
from server.admin_site import OrganizationScopedAdmin, person_column


@admin.register(Media)
class MediaAdmin(OrganizationScopedAdmin):
    org_admin_can_add = False
    list_display = ["id", "organization", person_column("owner", _("owner")), "status", "width", "height", "attached_at", "created_at"]
    list_filter = ["status"]
    list_select_related = ["owner", "organization"]
    # Paths and processing state are the pipeline's; the admin looks, it does not edit.
    readonly_fields = [field.name for field in Media._meta.fields]
    raw_id_fields = ["owner"]

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ConsoleView(models.Model):
    """A console page someone opened for a scope: beat keeps its numbers fresh for a day (console/snapshots.py)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    page = models.CharField(max_length=32)
    group_id = models.PositiveBigIntegerField(default=0, help_text=_("0: all of the viewer's scope."))
    viewed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("console view")
        verbose_name_plural = _("console views")
        constraints = [models.UniqueConstraint(fields=["user", "page", "group_id"], name="console_view_unique")]
        indexes = [models.Index(fields=["viewed_at"], name="console_view_recent_idx")]

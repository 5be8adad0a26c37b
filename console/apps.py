from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsoleConfig(AppConfig):
    """The web console for leaders and admins (/console/): the numbers they act on, as charts."""

    name = "console"
    verbose_name = _("Console")

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = _("Media (images)")

    def ready(self) -> None:
        # Registers the HEIF opener (phones, iPhones first, send HEIC) and loads Pillow's plugins.
        from media import imaging  # noqa: F401

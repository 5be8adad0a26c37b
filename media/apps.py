from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = _("Media (images)")

    def ready(self) -> None:
        # Registers the HEIF opener (phones, iPhones first, send HEIC) and loads Pillow's plugins.
        from accounts import avatars
        from media import events, imaging  # noqa: F401
        from media.models import AVATAR, variant_urls
        from notifications import catalogue

        catalogue.register(*events.EVENT_TYPES)
        # People's cards (accounts) show the avatar stored here, without accounts importing media.
        avatars.register(avatars.AvatarSource(relation=AVATAR, urls=variant_urls))

from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "media"
    verbose_name = "Media (images)"

    def ready(self) -> None:
        # Registers the HEIF opener (phones, iPhones first, send HEIC) and loads Pillow's plugins.
        from media import events, imaging  # noqa: F401
        from notifications import catalogue

        catalogue.register(*events.EVENT_TYPES)

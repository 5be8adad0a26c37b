from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "server"
    verbose_name = "API conventions"

    def ready(self) -> None:
        from server import checks  # noqa: F401  registers the system checks

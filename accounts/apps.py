from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Organisations and people")

    def ready(self) -> None:
        from accounts import schema  # noqa: F401  registers the OpenAPI auth extension
        from accounts.search import register_search

        # People are found by name by GET /search (search.registry).
        register_search()

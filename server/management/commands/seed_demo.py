"""A demo organisation with people and content; idempotent.

Each app contributes through `<app>.demo.seed(context)`, called in dependency
order; an app's seed must itself be idempotent (it may look at `context.created`).
"""

import importlib

from django.core.management.base import BaseCommand
from django.db import transaction

# Order follows the import rules: people first, then what builds on them.
CONTENT_APPS = ["notifications", "feed", "recognition", "voice", "moderation"]


class Command(BaseCommand):
    help = "Create (or refresh) the demo organisation; prints one line per demo login."

    def handle(self, *args, **options):
        from accounts import demo as accounts_demo

        with transaction.atomic():
            context = accounts_demo.seed()
            for app in CONTENT_APPS:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError as error:
                    if error.name != f"{app}.demo":
                        raise
                    continue
                module.seed(context)
        state = "created" if context.created else "already present"
        self.stdout.write(f"Demo organisation {context.organization.name!r} (id {context.organization.pk}) {state}.")
        for email, password, role in context.logins:
            self.stdout.write(f"login: {email} {password} {role}")

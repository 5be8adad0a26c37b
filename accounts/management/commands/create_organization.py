from django.core.management.base import BaseCommand, CommandError

from accounts import services
from server.api.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Create a tenant and its first admin; prints the organisation id."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--timezone", default="Europe/Amsterdam")
        parser.add_argument("--language", default="nl", choices=["nl", "en"])
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-password", required=True)
        parser.add_argument("--admin-name", default="")

    def handle(self, *args, **options):
        try:
            organization, _admin = services.organization_create(
                name=options["name"],
                timezone_name=options["timezone"],
                admin_email=options["admin_email"],
                admin_password=options["admin_password"],
                admin_name=options["admin_name"],
                default_language=options["language"],
            )
        except ApplicationError as error:
            raise CommandError(error.message)
        self.stdout.write(str(organization.pk))

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from recognition.services import award_rounds_close_due


class Command(BaseCommand):
    help = "Close every award round whose month has ended in its organisation's time zone (what the hourly beat task runs)."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Pretend it is this ISO-8601 time (with offset), e.g. 2026-04-01T00:30:00+02:00.")

    def handle(self, *args, **options):
        now = None
        if options["now"]:
            try:
                now = dt.datetime.fromisoformat(options["now"])
            except ValueError:
                raise CommandError("--now must be an ISO-8601 time, e.g. 2026-04-01T00:30:00+02:00")
            if now.tzinfo is None:
                raise CommandError("--now needs a UTC offset, e.g. 2026-04-01T00:30:00+02:00 or ...Z")
        sweep = award_rounds_close_due(now=now)
        self.stdout.write(
            f"closed {len(sweep.closed)} round(s) {sweep.closed}; "
            f"leader-pick fallbacks {len(sweep.fell_back)} {sweep.fell_back}; opened {sweep.opened} new round(s)"
        )

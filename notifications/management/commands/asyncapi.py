"""Write (or check) the AsyncAPI document of the WebSocket stream and the event table of docs/realtime.md."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from notifications import asyncapi


class Command(BaseCommand):
    help = "The AsyncAPI 3.0 document of /ws/v1/stream, generated from the event catalogue."

    def add_arguments(self, parser):
        parser.add_argument("--file", help="Write the document here (default: standard output).")
        parser.add_argument("--validate", action="store_true", help="Check it against the AsyncAPI 3.0 JSON Schema first.")
        parser.add_argument("--docs", help="Rewrite the generated event table in this Markdown file (docs/realtime.md).")
        parser.add_argument("--check", action="store_true", help="Change nothing: fail if --file or --docs is not up to date.")

    def handle(self, *args, file=None, validate=False, docs=None, check=False, **options):
        text = asyncapi.dumps()
        if validate:
            problems = asyncapi.validate(asyncapi.document())
            if problems:
                raise CommandError("Not a valid AsyncAPI 3.0 document:\n" + "\n".join(problems))
            self.stderr.write("AsyncAPI document valid.")
        stale = []
        if file:
            stale += self._write(Path(file), text, check=check)
        elif not check:
            sys.stdout.write(text)
        if docs:
            path = Path(docs)
            stale += self._write(path, asyncapi.with_table(path.read_text(encoding="utf-8")), check=check)
        if stale:
            raise CommandError(f"Out of date (run `manage.py asyncapi --file docs/asyncapi.json --docs docs/realtime.md`): {stale}")

    def _write(self, path: Path, text: str, *, check: bool) -> list[str]:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            return []
        if check:
            return [str(path)]
        path.write_text(text, encoding="utf-8")
        self.stderr.write(f"Wrote {path}")
        return []

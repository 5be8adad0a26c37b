"""Run inside the e2e server's environment: two organisations, printed as JSON.

`python -m tests.e2e.world` (with the server's DATABASE_URL) after migrate.
"""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
django.setup()

from tests.factories import LeaderFactory, OrganizationFactory, UserFactory, issue_token  # noqa: E402


def main() -> None:
    first, second = OrganizationFactory(name="Hotel One"), OrganizationFactory(name="Care Two")
    leader = LeaderFactory(organization=first, password=None)
    colleague = UserFactory(organization=first, password=None)
    stranger = UserFactory(organization=second, password=None)
    print(
        json.dumps(
            {
                "leader_token": issue_token(leader),
                "colleague_token": issue_token(colleague),
                "stranger_token": issue_token(stranger),
                "colleague_id": colleague.pk,
            }
        )
    )


if __name__ == "__main__":
    main()

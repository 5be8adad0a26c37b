"""Objects of organisation A for moderation's admin routes (see harness.py).

The export and erase routes take `user_id`, registered by tenancy_accounts.py; the audit
log routes take no object. Nothing new to register; tests/moderation/test_privacy.py
asserts that the harness walks these routes.
"""

ADMIN_ROUTE_NAMES = frozenset({"moderation-audit-log", "moderation-audit-log-csv", "moderation-user-export", "moderation-user-erase"})

TENANCY_FIXTURES: dict = {}

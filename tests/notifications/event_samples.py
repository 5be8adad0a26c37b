"""The sample of notifications' own event for the catalogue test (tests/notifications/test_catalogue.py)."""

from __future__ import annotations

from feed import services as feed


def notification_created(world) -> None:
    # Delivery writes the colleague's inbox row and sends it as notification.created.
    feed.post_create(author=world.employee, body=f"Thanks @[user:{world.colleague.pk}]!")


SAMPLES = {"notification.created": notification_created}

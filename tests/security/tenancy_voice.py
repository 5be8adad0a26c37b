"""Objects of organisation A for the voice routes (see harness.py).

The signal is raised by A's employee in group_a, visible to leaders only: nobody of
organisation B, whatever their role, and no colleague of A outside group_a may learn it exists.
"""

from voice.services import signals as voice


def _signal(world):
    return world.once(
        "voice.signal",
        lambda: voice.signal_create(
            author=world.employee_a,
            kind="friction",
            title="Tenancy signal",
            body="Guests ask for late check-out",
            group_id=world.group_a.pk,
            visibility="leaders",
        ),
    )


TENANCY_FIXTURES = {"signal_id": lambda world: _signal(world).pk}

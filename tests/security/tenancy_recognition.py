"""Objects of organisation A for the recognition routes (see harness.py).

The category is open to the whole of organisation A, the kudos and the nomination are
between its employee and leader: nobody of organisation B, whatever their role, may
learn any of them exists. `user_id` (wall of fame) is covered by the accounts fixtures.
"""

from recognition import services


def _value(world):
    return world.once("recognition.value", lambda: services.value_create(actor=world.admin_a, name="Tenancy value"))


def _kudos(world):
    return world.once(
        "recognition.kudos",
        lambda: services.kudos_give(giver=world.employee_a, recipient_ids=[world.leader_a.pk], message="Tenancy thanks"),
    )


def _category(world):
    return world.once("recognition.category", lambda: services.award_category_create(actor=world.admin_a, name="Tenancy award"))


def _round(world):
    return world.once("recognition.round", lambda: _category(world).rounds.get())


def _nomination(world):
    return world.once(
        "recognition.nomination",
        lambda: services.nomination_create(
            nominator=world.employee_a,
            round=_round(world),
            nominee_id=world.leader_a.pk,
            reason="Keeps the whole team going on busy Saturdays.",
        ),
    )


TENANCY_FIXTURES = {
    "value_id": lambda world: _value(world).pk,
    "kudos_id": lambda world: _kudos(world).pk,
    "category_id": lambda world: _category(world).pk,
    "round_id": lambda world: _round(world).pk,
    "nomination_id": lambda world: _nomination(world).pk,
}

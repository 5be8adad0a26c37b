"""Objects of organisation A for the accounts routes (see harness.py)."""


def _invitation(world) -> int:
    from accounts.services import invitation_create

    return world.once("invitation", lambda: invitation_create(actor=world.admin_a, email="invited.a@example.com", name="Invited A")[0].pk)


TENANCY_FIXTURES = {
    "user_id": lambda world: world.employee_a.pk,
    "group_id": lambda world: world.group_a.pk,
    "invitation_id": _invitation,
}

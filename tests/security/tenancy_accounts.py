"""Objects of organisation A for the accounts routes (see harness.py)."""

TENANCY_FIXTURES = {
    "user_id": lambda world: world.employee_a.pk,
    "group_id": lambda world: world.group_a.pk,
}

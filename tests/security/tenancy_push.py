"""Objects of organisation A for the tenancy harness: push routes with a path parameter.

A device belongs to one person: even org A's own admin gets 404 on it, so
another organisation's admin certainly does.
"""

from tests.notifications.push_factories import DeviceFactory

TENANCY_FIXTURES = {
    "device_id": lambda world: DeviceFactory(user=world.employee_a).pk,
}

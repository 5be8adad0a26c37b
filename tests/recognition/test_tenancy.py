"""Every recognition route with a path parameter, called by organisation B's admin on organisation A's
objects, answers 404 (with and without a body). Uses the same fixtures the lead's harness imports."""

import re

import pytest

from recognition.urls import urlpatterns
from tests.factories import AdminFactory, GroupFactory, LeaderFactory, MembershipFactory, OrganizationFactory, UserFactory
from tests.security.matrix import accepted_only
from tests.security.tenancy_recognition import TENANCY_FIXTURES


class World:
    def __init__(self):
        self.org_a = OrganizationFactory()
        self.admin_a = AdminFactory(organization=self.org_a)
        self.leader_a = LeaderFactory(organization=self.org_a)
        self.group_a = GroupFactory(organization=self.org_a)
        self.employee_a = MembershipFactory(group=self.group_a, user=UserFactory(organization=self.org_a)).user
        self._made = {}

    def once(self, key, make):
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]


pytestmark = pytest.mark.django_db

ROUTES = [p for p in urlpatterns if "<" in str(p.pattern)]


@pytest.mark.parametrize("pattern", ROUTES, ids=lambda p: str(p.pattern))
def test_another_organisations_objects_are_404(api, pattern):
    world = World()
    fixtures = {**TENANCY_FIXTURES, "user_id": lambda w: w.employee_a.pk}
    path = re.sub(r"<int:(\w+)>", lambda m: str(fixtures[m.group(1)](world)), str(pattern.pattern))
    view = pattern.callback.view_class
    outsider = api(AdminFactory(organization=OrganizationFactory()))
    methods = [m for m in ("get", "post", "patch", "put", "delete") if hasattr(view, m)]
    assert methods
    for method in methods:
        for body in ({}, {"nominee_id": world.leader_a.pk, "round_id": 1, "reason": "x" * 30, "name": "n"}):
            response = getattr(outsider, method)(f"/api/v1/{path}", accepted_only(f"/api/v1/{path}", method, body), format="json")
            assert response.status_code == 404, (method, path, response.status_code, response.content)

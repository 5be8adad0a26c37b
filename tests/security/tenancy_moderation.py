"""Objects of organisation A for the moderation routes (see harness.py).

`report_id` is a queue row about organisation A's group post (feed's fixture), reported
by a member of the group: nobody of organisation B may resolve, read or count it.
`post_id`, `comment_id` and `user_id` are registered by the feed and accounts files.
"""

from moderation import services
from tests.security.tenancy_feed import _post


def _case(world):
    return world.once(
        "moderation.case",
        lambda: services.report_create(reporter=world.employee_a, target_type="post", target_id=_post(world).pk, reason="spam").case,
    )


TENANCY_FIXTURES = {
    "report_id": lambda world: _case(world).pk,
}

"""Objects of organisation A for the feed routes (see harness.py).

The post is addressed to group_a, so the check also covers group audiences: nobody
of organisation B may learn it exists, whatever their role.
"""

from feed import services
from feed.services import goals


def _post(world):
    return world.once(
        "feed.post",
        lambda: services.post_create(
            author=world.leader_a,
            body="Tenancy check",
            group_ids=[world.group_a.pk],
            kind="announcement",
            requires_acknowledgement=True,
            # A named poll: the poll routes (vote, close, voters) are reachable in organisation A.
            poll={"options": ["Yes", "No"], "anonymous": False},
        ),
    )


def _comment(world):
    return world.once("feed.comment", lambda: services.comment_create(author=world.employee_a, post=_post(world), body="Gezien"))


def _goal(world):
    return world.once(
        "feed.goal",
        lambda: goals.goal_create(
            actor=world.leader_a, why="Guests return", how_to_help="Greet them", title="NPS 60", group_ids=[world.group_a.pk]
        ),
    )


def _key_moment(world):
    return world.once(
        "feed.key_moment",
        lambda: goals.key_moment_create(
            actor=world.leader_a, expected_behaviour="Greet every guest", title="Begroeten", group_ids=[world.group_a.pk]
        ),
    )


TENANCY_FIXTURES = {
    "post_id": lambda world: _post(world).pk,
    "comment_id": lambda world: _comment(world).pk,
    "goal_id": lambda world: _goal(world).pk,
    "key_moment_id": lambda world: _key_moment(world).pk,
}

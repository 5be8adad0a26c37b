"""Objects of organisation A for the feed routes (see harness.py).

The post is addressed to group_a, so the check also covers group audiences: nobody
of organisation B may learn it exists, whatever their role.
"""

from feed import services


def _post(world):
    return world.once(
        "feed.post",
        lambda: services.post_create(
            author=world.leader_a, body="Tenancy check", group_ids=[world.group_a.pk], kind="announcement", requires_acknowledgement=True
        ),
    )


def _comment(world):
    return world.once("feed.comment", lambda: services.comment_create(author=world.employee_a, post=_post(world), body="Gezien"))


TENANCY_FIXTURES = {
    "post_id": lambda world: _post(world).pk,
    "comment_id": lambda world: _comment(world).pk,
}

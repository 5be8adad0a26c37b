"""The process's broadcast hub behind the stream: one channel per process for org and group frames.

Runs on the in-memory layer by default and on `RedisPubSubChannelLayer` when REDIS_URL
is set, like test_stream.py; each scenario is one event loop, hence one hub.
"""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer

from notifications import realtime
from notifications.hub import hub_for
from tests.factories import GroupFactory, MembershipFactory, OrganizationFactory, UserFactory, issue_token
from tests.notifications.factories import emit_post
from tests.realtime.test_stream import NOTHING_WITHIN, next_frame, open_stream, run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def teams():
    org = OrganizationFactory()
    north, south = GroupFactory(organization=org), GroupFactory(organization=org)
    both = UserFactory(organization=org)
    MembershipFactory(group=north, user=both)
    MembershipFactory(group=south, user=both)
    north_only = MembershipFactory(group=north).user
    no_group = UserFactory(organization=org)
    other_org = OrganizationFactory()
    other_team = GroupFactory(organization=other_org)
    stranger = MembershipFactory(group=other_team).user
    return {
        "org": org,
        "north": north,
        "south": south,
        "both": both,
        "north_only": north_only,
        "no_group": no_group,
        "other_org": other_org,
        "other_team": other_team,
        "stranger": stranger,
    }


def layer_group_channels(group: str) -> set[str]:
    """The channels the layer has in `group` (the hub's only, if any)."""
    layer = get_channel_layer()
    if hasattr(layer, "_get_layer"):  # RedisPubSubChannelLayer: per event loop, keyed by the group's Redis channel
        loop_layer = layer._get_layer()
        return set(loop_layer.groups.get(loop_layer._get_group_channel_name(group), set()))
    return set(layer.groups.get(group, {}))


def socket_of(group: str, user_id: int):
    hub = hub_for(get_channel_layer())
    return next(socket for socket in hub.members[group] if socket.user_id == user_id)


def test_two_sockets_of_one_group_each_get_a_broadcast_once(teams):
    first, second = issue_token(teams["north_only"], "phone"), issue_token(teams["north_only"], "tablet")

    async def scenario():
        phone, _, _ = await open_stream(token=first)
        tablet, _, _ = await open_stream(token=second)
        event = await sync_to_async(emit_post)(organization_id=teams["org"].pk, group_ids=[teams["north"].pk])
        for socket in (phone, tablet):
            assert (await next_frame(socket))["id"] == str(event.pk)
            assert await socket.receive_nothing(timeout=NOTHING_WITHIN)
        await phone.disconnect()
        await tablet.disconnect()

    run(scenario)


def test_sockets_in_two_groups_get_a_post_to_both_once(teams):
    tokens = [issue_token(teams["both"], "phone"), issue_token(teams["both"], "tablet")]

    async def scenario():
        sockets = [(await open_stream(token=token))[0] for token in tokens]
        groups = [teams["north"].pk, teams["south"].pk]
        first = await sync_to_async(emit_post)(organization_id=teams["org"].pk, group_ids=groups, post_id=1)
        second = await sync_to_async(emit_post)(organization_id=teams["org"].pk, group_ids=groups, post_id=2)
        for socket in sockets:
            assert [(await next_frame(socket))["id"] for _ in range(2)] == [str(first.pk), str(second.pk)]
            assert await socket.receive_nothing(timeout=NOTHING_WITHIN)
        for socket in sockets:
            await socket.disconnect()

    run(scenario)


def test_the_hub_joins_a_group_once_and_discards_it_when_its_last_socket_leaves(teams):
    first, second = issue_token(teams["north_only"], "phone"), issue_token(teams["both"])
    north = realtime.member_group(teams["north"].pk)

    async def scenario():
        hub = hub_for(get_channel_layer())
        phone, _, _ = await open_stream(token=first)
        other, _, _ = await open_stream(token=second)
        # One channel of the process in the group, whatever the number of sockets.
        assert layer_group_channels(north) == {hub.channel_name}
        assert len(hub.members[north]) == 2
        await phone.disconnect()
        await asyncio.gather(*hub.pending_discards)
        assert layer_group_channels(north) == {hub.channel_name}
        assert len(hub.members[north]) == 1
        await other.disconnect()
        await asyncio.gather(*hub.pending_discards)
        assert north not in hub.members
        assert layer_group_channels(north) == set()
        assert layer_group_channels(realtime.org_group(teams["org"].pk)) == set()

    run(scenario)


def test_leaving_a_group_stops_its_frames_and_a_rejoin_brings_them_back(teams):
    token = issue_token(teams["north_only"])
    north_id = teams["north"].pk
    north = realtime.member_group(north_id)
    user_id = teams["north_only"].pk

    async def scenario():
        hub = hub_for(get_channel_layer())
        socket, _, _ = await open_stream(token=token)
        consumer = socket_of(north, user_id)
        # Sent the way the membership receivers send it.
        await sync_to_async(realtime.sockets_membership)(user_id=user_id, group_id=north_id, joined=False)
        for _ in range(50):
            if north not in hub.members:
                break
            await asyncio.sleep(0.01)
        assert north not in consumer.broadcast_groups
        await sync_to_async(emit_post)(organization_id=teams["org"].pk, group_ids=[north_id], post_id=1)
        assert await socket.receive_nothing(timeout=NOTHING_WITHIN)
        await sync_to_async(realtime.sockets_membership)(user_id=user_id, group_id=north_id, joined=True)
        for _ in range(50):
            if north in hub.members:
                break
            await asyncio.sleep(0.01)
        event = await sync_to_async(emit_post)(organization_id=teams["org"].pk, group_ids=[north_id], post_id=2)
        assert (await next_frame(socket))["id"] == str(event.pk)
        await socket.disconnect()

    run(scenario)


def test_a_socket_that_fails_or_stalls_mid_broadcast_does_not_hold_up_the_others(teams):
    tokens = {name: issue_token(teams[name]) for name in ("both", "north_only", "no_group")}
    org_group = realtime.org_group(teams["org"].pk)

    async def scenario():
        sockets = {name: (await open_stream(token=token))[0] for name, token in tokens.items()}
        never = asyncio.Event()

        async def closed_meanwhile(message):
            raise RuntimeError("Unexpected ASGI message 'websocket.send', after sending 'websocket.close'")

        async def full_buffer(message):
            await never.wait()

        closing = socket_of(org_group, teams["north_only"].pk)
        closing.base_send = closed_meanwhile
        stalled = socket_of(org_group, teams["no_group"].pk)
        stalled.base_send = full_buffer
        events = [await sync_to_async(emit_post)(organization_id=teams["org"].pk, post_id=index) for index in range(3)]
        assert [(await next_frame(sockets["both"]))["id"] for _ in events] == [str(event.pk) for event in events]
        assert len(stalled.frames_in_flight) == 3
        assert not closing.frames_in_flight
        never.set()
        for socket in sockets.values():
            await socket.disconnect()

    run(scenario)


def test_a_socket_too_far_behind_is_closed_and_dropped_by_the_hub(teams):
    token = issue_token(teams["north_only"])
    org_group = realtime.org_group(teams["org"].pk)

    async def scenario():
        socket, _, _ = await open_stream(token=token)
        consumer = socket_of(org_group, teams["north_only"].pk)
        sent = []
        never = asyncio.Event()

        async def full_buffer(message):
            sent.append(message)
            if message["type"] == "websocket.send":
                await never.wait()

        consumer.base_send = full_buffer
        with mock.patch("notifications.consumers.MAX_FRAMES_IN_FLIGHT", 2):
            for index in range(3):
                await sync_to_async(emit_post)(organization_id=teams["org"].pk, post_id=index)
            for _ in range(100):
                if sent and sent[-1]["type"] == "websocket.close":
                    break
                await asyncio.sleep(0.01)
        assert [message["type"] for message in sent] == ["websocket.send", "websocket.send", "websocket.close"]
        assert sent[-1]["code"] == 1013
        assert consumer not in hub_for(get_channel_layer()).members.get(org_group, set())
        never.set()
        await socket.disconnect()

    run(scenario)


def test_sockets_of_two_organisations_in_one_process_see_only_their_own_frames(teams):
    mine, theirs = issue_token(teams["both"]), issue_token(teams["stranger"])

    async def scenario():
        member, _, _ = await open_stream(token=mine)
        stranger, _, _ = await open_stream(token=theirs)
        org_wide = await sync_to_async(emit_post)(organization_id=teams["org"].pk, post_id=1)
        team_post = await sync_to_async(emit_post)(organization_id=teams["org"].pk, group_ids=[teams["north"].pk], post_id=2)
        assert [(await next_frame(member))["id"] for _ in range(2)] == [str(org_wide.pk), str(team_post.pk)]
        assert await stranger.receive_nothing(timeout=NOTHING_WITHIN)
        other_wide = await sync_to_async(emit_post)(organization_id=teams["other_org"].pk, post_id=3)
        other_team = await sync_to_async(emit_post)(organization_id=teams["other_org"].pk, group_ids=[teams["other_team"].pk], post_id=4)
        assert [(await next_frame(stranger))["id"] for _ in range(2)] == [str(other_wide.pk), str(other_team.pk)]
        assert await member.receive_nothing(timeout=NOTHING_WITHIN)
        await member.disconnect()
        await stranger.disconnect()

    run(scenario)


def test_the_hub_freezes_the_sockets_objects_once_a_connect_burst_is_over():
    from notifications import hub as hub_module

    async def scenario():
        hub = hub_module.BroadcastHub(layer=None)
        with mock.patch.object(hub_module, "FREEZE_AFTER_CONNECTS", 3), mock.patch.object(hub_module, "gc") as gc:
            for _ in range(2):
                hub.socket_connected()
            assert hub.freeze_timer is None  # too few sockets to be worth a collection
            hub.socket_connected()
            assert hub.freeze_timer is not None
            hub.freeze_timer.cancel()
            hub._freeze_when_quiet()  # the last connect was just now: wait for the burst to end
            assert not gc.method_calls
            hub.freeze_timer.cancel()
            hub.last_connect_at -= hub_module.FREEZE_AFTER_QUIET_SECONDS
            hub._freeze_when_quiet()
            assert [call[0] for call in gc.method_calls] == ["unfreeze", "collect", "freeze"]
            assert hub.freeze_timer is None
            assert hub.connects_since_freeze == 0

    asyncio.run(scenario())

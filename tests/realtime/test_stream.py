"""The WebSocket stream through Channels' WebsocketCommunicator (in-memory layer).

transaction=True: the consumer reads tokens through database_sync_to_async, which
closes connections that sit in a test transaction; committed rows avoid that.
Each test body is a coroutine run with async_to_sync, so no asyncio test plugin
is needed and thread-sensitive database calls stay on the test's thread.
"""

from __future__ import annotations

import json
from datetime import timedelta
from unittest import mock

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from accounts import services as account_services
from accounts.authentication import hash_token
from accounts.models import AuthToken
from server.routing import websocket_urlpatterns
from tests.factories import AdminFactory, GroupFactory, MembershipFactory, OrganizationFactory, UserFactory, issue_token
from tests.notifications.factories import emit_post

pytestmark = pytest.mark.django_db(transaction=True)

application = URLRouter(websocket_urlpatterns)
NOTHING_WITHIN = 0.2


def run(scenario):
    return async_to_sync(scenario)()


async def open_stream(*, token: str | None = None, subprotocols=None, headers=None, query: str | None = None):
    path = "/ws/v1/stream"
    if query is not None:
        path += f"?{query}"
    elif token is not None:
        path += f"?token={token}"
    communicator = WebsocketCommunicator(application, path, headers=headers or [], subprotocols=subprotocols)
    connected, subprotocol = await communicator.connect()
    return communicator, connected, subprotocol


async def assert_closed_with(communicator, code: int, *, within: float = 1) -> None:
    output = await communicator.receive_output(timeout=within)
    assert output == {"type": "websocket.close", "code": code}


async def next_frame(communicator) -> dict:
    return json.loads(await communicator.receive_from(timeout=1))


@pytest.fixture
def world():
    org = OrganizationFactory()
    other = OrganizationFactory()
    team = GroupFactory(organization=org)
    member = MembershipFactory(group=team).user
    outsider = UserFactory(organization=org)
    stranger = UserFactory(organization=other)
    return {"org": org, "other": other, "team": team, "member": member, "outsider": outsider, "stranger": stranger}


def test_missing_bad_and_expired_tokens_close_4401(world):
    expired = issue_token(world["member"])
    AuthToken.objects.filter(key_hash=hash_token(expired)).update(expires_at=timezone.now() - timedelta(seconds=1))

    async def scenario():
        for query in ("", "token=not-a-token", f"token={expired}"):
            communicator, connected, _ = await open_stream(query=query)
            assert connected
            await assert_closed_with(communicator, 4401)

    run(scenario)


def test_an_unknown_path_is_refused_at_the_handshake_without_an_error(world, caplog):
    # The router raised on it: uvicorn logged a traceback and answered 500 to every probe.
    token = issue_token(world["member"])

    async def scenario():
        for path in ("/ws/v1/nope", f"/ws/stream?token={token}", "/", "/ws/v1/stream/extra"):
            communicator = WebsocketCommunicator(application, path)
            connected, code = await communicator.connect()
            assert (connected, code) == (False, 1008), path
            await communicator.wait()

    with caplog.at_level("ERROR"):
        run(scenario)
    assert not [record for record in caplog.records if record.levelname == "ERROR"]


def test_subprotocol_auth_echoes_only_the_protocol_name(world):
    token = issue_token(world["member"])

    async def scenario():
        communicator, connected, subprotocol = await open_stream(subprotocols=["bearer", token])
        assert connected
        assert subprotocol == "bearer"
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=1) == {"type": "pong"}
        await communicator.disconnect()

    run(scenario)


def test_ping_pong_and_garbage_is_ignored(world):
    token = issue_token(world["member"])

    async def scenario():
        communicator, _, _ = await open_stream(token=token)
        await communicator.send_to(text_data="not json")
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from(timeout=1) == {"type": "pong"}
        await communicator.disconnect()

    run(scenario)


def test_browser_origins_must_be_allowed_native_apps_send_none(world, settings):
    token = issue_token(world["member"])
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://app.example.com"]

    async def scenario():
        for origin in (b"https://evil.example.net", b"null", b"https://localhost.evil.net"):
            _, connected, _ = await open_stream(token=token, headers=[(b"origin", origin)])
            assert not connected, origin
        for origin in (b"https://app.example.com", b"http://localhost:3000"):  # setting, ALLOWED_HOSTS
            communicator, connected, _ = await open_stream(token=token, headers=[(b"origin", origin)])
            assert connected
            await communicator.disconnect()
        communicator, connected, _ = await open_stream(token=token)
        assert connected
        await communicator.disconnect()

    run(scenario)


def test_org_wide_post_reaches_own_organisation_only(world):
    member_token, stranger_token = issue_token(world["member"]), issue_token(world["stranger"])

    async def scenario():
        mine, _, _ = await open_stream(token=member_token)
        theirs, _, _ = await open_stream(token=stranger_token)
        event = await sync_to_async(emit_post)(organization_id=world["org"].pk, body="Org news")
        frame = await next_frame(mine)
        assert frame["id"] == str(event.pk)
        assert frame["type"] == "post.created"
        assert frame["data"]["body"] == "Org news"
        assert set(frame) == {"id", "type", "data", "at"}
        assert await theirs.receive_nothing(timeout=NOTHING_WITHIN)
        await mine.disconnect()
        await theirs.disconnect()

    run(scenario)


def test_group_post_reaches_members_only(world):
    member_token, outsider_token = issue_token(world["member"]), issue_token(world["outsider"])

    async def scenario():
        member, _, _ = await open_stream(token=member_token)
        outsider, _, _ = await open_stream(token=outsider_token)
        await sync_to_async(emit_post)(organization_id=world["org"].pk, group_ids=[world["team"].pk], body="Team only")
        assert (await next_frame(member))["data"]["body"] == "Team only"
        assert await outsider.receive_nothing(timeout=NOTHING_WITHIN)
        await member.disconnect()
        await outsider.disconnect()

    run(scenario)


def test_post_to_two_of_my_groups_arrives_once(world):
    second = GroupFactory(organization=world["org"])
    MembershipFactory(group=second, user=world["member"])
    token = issue_token(world["member"])

    async def scenario():
        member, _, _ = await open_stream(token=token)
        await sync_to_async(emit_post)(organization_id=world["org"].pk, group_ids=[world["team"].pk, second.pk])
        await next_frame(member)
        assert await member.receive_nothing(timeout=NOTHING_WITHIN)
        await member.disconnect()

    run(scenario)


def test_membership_change_while_connected_joins_and_leaves_the_group_stream(world):
    admin = AdminFactory(organization=world["org"])
    outsider = world["outsider"]
    token = issue_token(outsider)
    team = world["team"]

    async def scenario():
        socket, _, _ = await open_stream(token=token)
        await sync_to_async(account_services.user_update)(actor=admin, user=outsider, group_ids=[team.pk])
        await sync_to_async(emit_post)(organization_id=world["org"].pk, group_ids=[team.pk], body="Welcome", post_id=1)
        assert (await next_frame(socket))["data"]["body"] == "Welcome"
        await sync_to_async(account_services.user_update)(actor=admin, user=outsider, group_ids=[])
        await sync_to_async(emit_post)(organization_id=world["org"].pk, group_ids=[team.pk], body="After leaving", post_id=2)
        assert await socket.receive_nothing(timeout=NOTHING_WITHIN)
        await socket.disconnect()

    run(scenario)


def test_deactivation_closes_every_socket_of_the_user_with_4403(world):
    admin = AdminFactory(organization=world["org"])
    phone, tablet = issue_token(world["member"], "phone"), issue_token(world["member"], "tablet")

    async def scenario():
        first, _, _ = await open_stream(token=phone)
        second, _, _ = await open_stream(token=tablet)
        await sync_to_async(account_services.user_deactivate)(actor=admin, user=world["member"])
        await assert_closed_with(first, 4403)
        await assert_closed_with(second, 4403)

    run(scenario)


def test_logout_closes_only_that_device_with_4401(world):
    phone, tablet = issue_token(world["member"], "phone"), issue_token(world["member"], "tablet")
    phone_session = AuthToken.objects.get(key_hash=hash_token(phone))

    async def scenario():
        first, _, _ = await open_stream(token=phone)
        second, _, _ = await open_stream(token=tablet)
        await sync_to_async(account_services.logout)(token=phone_session)
        await assert_closed_with(first, 4401)
        await second.send_json_to({"type": "ping"})
        assert await second.receive_json_from(timeout=1) == {"type": "pong"}
        await second.disconnect()

    run(scenario)


def test_mention_pushes_notification_created_with_unread_count(world):
    token = issue_token(world["member"])

    async def scenario():
        socket, _, _ = await open_stream(token=token)
        await sync_to_async(emit_post)(organization_id=world["org"].pk, addressed=[{"user_id": world["member"].pk, "reason": "mention"}])
        frames = [await next_frame(socket), await next_frame(socket)]
        by_type = {frame["type"]: frame for frame in frames}
        assert set(by_type) == {"post.created", "notification.created"}
        notification = by_type["notification.created"]
        assert notification["data"]["unread_count"] == 1
        assert notification["data"]["notification"]["reason"] == "mention"
        assert notification["id"] != by_type["post.created"]["id"]
        await socket.disconnect()

    run(scenario)


def test_frames_and_pings_skip_the_database_connection_hop(world):
    token = issue_token(world["member"])
    hops = []

    async def counting_hop():
        hops.append(1)

    async def scenario():
        with mock.patch("channels.consumer.aclose_old_connections", counting_hop):
            socket, _, _ = await open_stream(token=token)
            connect_hops = len(hops)
            await socket.send_json_to({"type": "ping"})
            await socket.receive_json_from(timeout=1)
            await sync_to_async(emit_post)(organization_id=world["org"].pk)
            await next_frame(socket)
            await socket.disconnect()
        # Not even the handshake: its own database calls close old connections (issue #26).
        assert connect_hops == 0
        assert len(hops) == 0

    run(scenario)


def test_a_token_expiring_while_connected_closes_the_socket_with_4401(world):
    token = issue_token(world["member"])
    AuthToken.objects.filter(key_hash=hash_token(token)).update(expires_at=timezone.now() + timedelta(seconds=1.5))

    async def scenario():
        socket, connected, _ = await open_stream(token=token)
        assert connected
        await socket.send_json_to({"type": "ping"})
        assert await socket.receive_json_from(timeout=1) == {"type": "pong"}
        await assert_closed_with(socket, 4401, within=3)

    run(scenario)


# --- The connect path (issue #26, W6 reconnect storm) -----------------------------------------
# After a server restart every phone reconnects at once: each connect's database work runs on
# the process's one thread-sensitive thread, so its hops and statements set the connect rate.


def _count_thread_hops():
    from asgiref.sync import SyncToAsync

    hops = []
    original = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        hops.append(getattr(self.func, "__name__", repr(self.func)))
        return await original(self, *args, **kwargs)

    return hops, mock.patch.object(SyncToAsync, "__call__", counting)


def test_a_connect_costs_two_thread_hops_and_two_statements_whatever_the_groups(world, django_assert_num_queries):
    """Token (with user and organisation), then the session's state with its groups: pinned."""
    for _ in range(3):
        MembershipFactory(user=world["member"], group=GroupFactory(organization=world["org"]))
    for user in (world["member"], world["outsider"]):  # four groups, none
        token = issue_token(user)
        AuthToken.objects.filter(key_hash=hash_token(token)).update(last_used_at=timezone.now())  # no touch due
        hops, counting = _count_thread_hops()

        async def scenario(token=token, counting=counting):
            with counting:
                socket, connected, _ = await open_stream(token=token)
            assert connected
            await socket.send_json_to({"type": "ping"})
            assert await socket.receive_json_from(timeout=1) == {"type": "pong"}
            await socket.disconnect()

        with django_assert_num_queries(2):
            run(scenario)
        assert hops == ["_authenticate", "_member_group_ids"], hops


def test_the_connect_reads_the_groups_of_this_person_only(world):
    from notifications.consumers import _member_group_ids

    other_team = GroupFactory(organization=world["org"])
    MembershipFactory(user=world["outsider"], group=other_team)
    foreign = GroupFactory(organization=world["other"])
    MembershipFactory(user=world["stranger"], group=foreign)

    def groups_of(user):
        token = AuthToken.objects.get(key_hash=hash_token(issue_token(user)))

        async def read():
            return await _member_group_ids(user_id=user.pk, token_id=token.pk)

        return run(read)

    assert groups_of(world["member"]) == (None, [world["team"].pk])
    assert groups_of(world["outsider"]) == (None, [other_team.pk])


def _session_ends_during_connect(world, end_session) -> None:
    """`end_session` runs after the token was read and before the session's state is: the
    control message it sends can come before the socket listens, so the second read decides."""
    from notifications import consumers

    read_state = consumers._member_group_ids

    async def late_read(*, user_id, token_id):
        await sync_to_async(end_session)()
        return await read_state(user_id=user_id, token_id=token_id)

    token = issue_token(world["member"])

    async def scenario():
        with mock.patch.object(consumers, "_member_group_ids", late_read):
            socket, _, _ = await open_stream(token=token)
        return socket

    return token, scenario


def test_a_logout_while_the_socket_connects_closes_it_4401(world):
    def logout():
        AuthToken.objects.filter(user=world["member"]).delete()

    _token, scenario = _session_ends_during_connect(world, logout)

    async def check():
        socket = await scenario()
        await assert_closed_with(socket, 4401)

    run(check)


def test_a_deactivation_while_the_socket_connects_closes_it_4403_even_before_the_tokens_go(world):
    from accounts.models import User

    def deactivate():
        User.objects.filter(pk=world["member"].pk).update(is_active=False)  # tokens still there

    _token, scenario = _session_ends_during_connect(world, deactivate)

    async def check():
        socket = await scenario()
        await assert_closed_with(socket, 4403)

    run(check)

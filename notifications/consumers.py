"""The WebSocket stream `/ws/v1/stream`: authenticate, join groups, forward frames.

No business logic here (STYLE.md): events arrive pre-rendered from the delivery
step; control messages (membership change, token revoked, user deactivated) are
sent by the signal receivers in `notifications.stream_receivers`. Organisation and group
frames come through the process's broadcast hub (`notifications.hub`), personal
frames and control messages through the socket's own channel.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from typing import Any
from urllib.parse import parse_qs, urlsplit

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from notifications import realtime
from notifications.hub import hub_for
from server.db import CompiledQuery
from server.obs import metrics

SUBPROTOCOL = "bearer"
PONG = json.dumps({"type": "pong"})
# Recently forwarded frame ids: a post to two of my groups reaches me once.
RECENT_FRAME_IDS = 256
# Frames written to a socket that has not taken them yet. A phone this far behind is
# closed with 1013 (try again later): it reconnects and catches up over REST, instead
# of the server buffering for it without limit.
MAX_FRAMES_IN_FLIGHT = 100
CLOSE_TOO_SLOW = 1013


def _origin_allowed(origin: str | None) -> bool:
    if origin is None:
        # Native apps send no Origin; the token alone authenticates them.
        return True
    if origin in settings.WEBSOCKET_ALLOWED_ORIGINS:
        return True
    # Same rules as Django's Host check (wildcards, ".example.com" subdomains).
    domain, _port = split_domain_port(urlsplit(origin).netloc.lower())
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


@database_sync_to_async
def _authenticate(raw: str) -> tuple[Any, Any] | None:
    from accounts.authentication import authenticate_token

    try:
        user, token = authenticate_token(raw)
    except AuthenticationFailed:
        return None
    if user.organization_id is None:
        return None
    return user, token


def _session_state_query(user_id: int, token_id: int) -> Any:
    from django.db.models import Exists

    from accounts.models import AuthToken, User

    # One row per membership (one row with a null group when there is none): the session's
    # state and the groups in one statement, compiled once per process.
    return (
        User.objects.filter(pk=user_id)
        .annotate(token_alive=Exists(AuthToken.objects.filter(pk=token_id)))
        .values_list("is_active", "token_alive", "memberships__group_id")
        .order_by()
    )


_SESSION_STATE = CompiledQuery(_session_state_query, arity=2)


@database_sync_to_async
def _member_group_ids(*, user_id: int, token_id: int) -> tuple[int | None, list[int]]:
    """(close code, group ids): a close code when the session ended while the socket connected."""
    rows = _SESSION_STATE.rows(user_id, token_id)
    if not rows or not rows[0][0]:
        return realtime.CLOSE_FORBIDDEN, []
    if not rows[0][1]:
        return realtime.CLOSE_UNAUTHENTICATED, []
    return None, [group_id for _active, _alive, group_id in rows if group_id is not None]


class StreamConsumer(AsyncWebsocketConsumer):
    # Handlers for these message types skip Channels' per-message close_old_connections()
    # hop to the process's one thread-sensitive thread: they touch no database, or (the
    # connect) only through database_sync_to_async, which closes old connections itself.
    # With thousands of sockets each event would otherwise queue thousands of thread hops,
    # and each connect in a reconnect storm one hop more on that thread (issue #26).
    database_free_types = frozenset(
        {"websocket.connect", "websocket.receive", "websocket.disconnect", "stream.event", "stream.membership", "stream.close"}
    )

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] in self.database_free_types:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the consumer ends (disconnect, server shutdown, error), the hub
            # must not keep writing to it.
            self._leave_broadcasts()

    async def connect(self) -> None:
        self.groups = []
        self.broadcast_groups: list[str] = []
        self.recent_frame_ids: deque[str] = deque(maxlen=RECENT_FRAME_IDS)
        self.recent_frame_id_set: set[str] = set()
        self.frames_in_flight: set[asyncio.Task[None]] = set()
        # Frames that arrive between joining the groups and the handshake: sent
        # right after it, as the socket's channel queue used to hold them.
        self.frames_before_accept: list[str] | None = []
        self.expiry_timer: asyncio.TimerHandle | None = None
        self.hub = hub_for(self.channel_layer)
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin")
        if not _origin_allowed(origin.decode("latin-1") if origin is not None else None):
            # Refused before the handshake: a foreign web page gets an HTTP 403.
            await self.close()
            return
        raw, subprotocol = self._token()
        authenticated = await _authenticate(raw) if raw else None
        if authenticated is None:
            await self._refuse(subprotocol=subprotocol, code=realtime.CLOSE_UNAUTHENTICATED)
            return
        user, token = authenticated
        self.user_id = user.pk
        # Control groups first, then read the state they guard: a logout or a
        # membership change committed before the read is in it, one after it
        # arrives as a control message. Either way the socket never misses it.
        self.groups = [realtime.user_group(user.pk), realtime.token_group(token.pk)]
        await asyncio.gather(
            *(self.channel_layer.group_add(group, self.channel_name) for group in self.groups),
            self._join_broadcast(realtime.org_group(user.organization_id)),
        )
        close_code, group_ids = await _member_group_ids(user_id=user.pk, token_id=token.pk)
        if close_code is not None:
            await self._refuse(subprotocol=subprotocol, code=close_code)
            return
        await asyncio.gather(*(self._join_broadcast(realtime.member_group(group_id)) for group_id in group_ids))
        # Accept only once subscribed everywhere: the app starts its REST catch-up
        # when the socket opens, so every later event must already reach the socket.
        # The subprotocol is echoed as the fixed name, never the token itself.
        await self.accept(subprotocol=subprotocol)
        self.hub.socket_connected()
        self.counted_open = True
        metrics.ws_connects.inc()
        metrics.ws_open.inc()
        early, self.frames_before_accept = self.frames_before_accept, None
        for text in early:
            self._track(self.base_send({"type": "websocket.send", "text": text}))
        metrics.FrameTally.sent += len(early)
        seconds_left = (token.expires_at - timezone.now()).total_seconds()
        # A token that expires while connected ends the stream like a revoked one.
        self.expiry_timer = asyncio.get_running_loop().call_later(
            max(seconds_left, 0), lambda: asyncio.ensure_future(self.close(code=realtime.CLOSE_UNAUTHENTICATED))
        )

    async def _refuse(self, *, subprotocol: str | None, code: int) -> None:
        # Accept first: a close before the handshake is an HTTP 403 without a code,
        # and the app needs the code to tell "log in again" from "account gone".
        self._leave_broadcasts()
        await self.accept(subprotocol=subprotocol)
        await self.close(code=code)

    def _token(self) -> tuple[str | None, str | None]:
        subprotocols = self.scope.get("subprotocols") or []
        if len(subprotocols) >= 2 and subprotocols[0] == SUBPROTOCOL:
            return subprotocols[1], SUBPROTOCOL
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        tokens = query.get("token")
        return (tokens[0] if tokens else None), None

    async def disconnect(self, code: int) -> None:
        if getattr(self, "expiry_timer", None) is not None:
            self.expiry_timer.cancel()
        if getattr(self, "counted_open", False):
            self.counted_open = False
            metrics.ws_open.dec()
            metrics.ws_closes.labels(code=metrics.close_code_label(code)).inc()

    async def _join_broadcast(self, group: str) -> None:
        self.broadcast_groups.append(group)
        await self.hub.join(group, self)

    def _leave_broadcasts(self) -> None:
        for group in getattr(self, "broadcast_groups", ()):
            self.hub.leave(group, self)
        self.broadcast_groups = []

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not text_data or len(text_data) > 1024:
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("type") == "ping":
            await self.send(text_data=PONG)

    # --- Channel-layer messages -----------------------------------------------------

    def forward(self, *, frame_id: str, text: str) -> None:
        """Write a frame without waiting for this socket: the hub calls it for every local socket."""
        if frame_id in self.recent_frame_id_set:
            return
        if len(self.recent_frame_ids) == RECENT_FRAME_IDS:
            self.recent_frame_id_set.discard(self.recent_frame_ids[0])
        self.recent_frame_ids.append(frame_id)
        self.recent_frame_id_set.add(frame_id)
        if self.frames_before_accept is not None:
            self.frames_before_accept.append(text)
            return
        if len(self.frames_in_flight) >= MAX_FRAMES_IN_FLIGHT:
            metrics.FrameTally.dropped += 1
            self._leave_broadcasts()
            self._track(self.close(code=CLOSE_TOO_SLOW))
            return
        metrics.FrameTally.sent += 1
        # One task per frame: a socket whose buffer is full waits in its own task
        # while the rest of the broadcast goes on. Tasks start in creation order and
        # write before their first wait, so each socket still gets frames in order.
        self._track(self.base_send({"type": "websocket.send", "text": text}))

    def _track(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self.frames_in_flight.add(task)
        task.add_done_callback(self._frame_done)

    def _frame_done(self, task: asyncio.Task[None]) -> None:
        self.frames_in_flight.discard(task)
        # A socket that closed while its frame was on the way: nothing to report.
        if not task.cancelled():
            task.exception()

    async def stream_event(self, message: dict[str, Any]) -> None:
        self.forward(frame_id=message["id"], text=message["text"])
        metrics.frames_flush()

    async def stream_membership(self, message: dict[str, Any]) -> None:
        group = realtime.member_group(message["group_id"])
        if message["joined"] and group not in self.broadcast_groups:
            await self._join_broadcast(group)
        elif not message["joined"] and group in self.broadcast_groups:
            self.broadcast_groups.remove(group)
            self.hub.leave(group, self)

    async def stream_close(self, message: dict[str, Any]) -> None:
        await self.close(code=message["code"])

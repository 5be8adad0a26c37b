"""The WebSocket stream `/ws/v1/stream`: authenticate, join groups, forward frames.

No business logic here (STYLE.md): events arrive pre-rendered from the delivery
step; control messages (membership change, token revoked, user deactivated) are
sent by the signal receivers in `notifications.receivers`.
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

SUBPROTOCOL = "bearer"
PONG = json.dumps({"type": "pong"})
# Recently forwarded frame ids: a post to two of my groups reaches me once.
RECENT_FRAME_IDS = 256


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


@database_sync_to_async
def _member_group_ids(*, user_id: int, token_id: int) -> tuple[int | None, list[int]]:
    """(close code, group ids): a close code when the session ended while the socket connected."""
    from accounts.models import AuthToken, Membership, User

    if not AuthToken.objects.filter(pk=token_id).exists():
        active = User.objects.filter(pk=user_id, is_active=True).exists()
        return (realtime.CLOSE_UNAUTHENTICATED if active else realtime.CLOSE_FORBIDDEN), []
    return None, list(Membership.objects.filter(user_id=user_id).values_list("group_id", flat=True))


class StreamConsumer(AsyncWebsocketConsumer):
    # Handlers for these message types touch no database, so they skip Channels'
    # per-message close_old_connections() hop to a worker thread: with thousands
    # of sockets each event would otherwise queue thousands of thread hops.
    database_free_types = frozenset({"websocket.receive", "websocket.disconnect", "stream.event", "stream.membership", "stream.close"})

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] in self.database_free_types:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)

    async def connect(self) -> None:
        self.groups = []
        self.recent_frame_ids: deque[str] = deque(maxlen=RECENT_FRAME_IDS)
        self.recent_frame_id_set: set[str] = set()
        self.expiry_timer: asyncio.TimerHandle | None = None
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
        self.groups = [realtime.user_group(user.pk), realtime.token_group(token.pk), realtime.org_group(user.organization_id)]
        await asyncio.gather(*(self.channel_layer.group_add(group, self.channel_name) for group in self.groups))
        close_code, group_ids = await _member_group_ids(user_id=user.pk, token_id=token.pk)
        if close_code is not None:
            await self._refuse(subprotocol=subprotocol, code=close_code)
            return
        member_groups = [realtime.member_group(group_id) for group_id in group_ids]
        self.groups += member_groups
        await asyncio.gather(*(self.channel_layer.group_add(group, self.channel_name) for group in member_groups))
        # Accept only once subscribed everywhere: the app starts its REST catch-up
        # when the socket opens, so every later event must already reach the socket.
        # The subprotocol is echoed as the fixed name, never the token itself.
        await self.accept(subprotocol=subprotocol)
        seconds_left = (token.expires_at - timezone.now()).total_seconds()
        # A token that expires while connected ends the stream like a revoked one.
        self.expiry_timer = asyncio.get_running_loop().call_later(
            max(seconds_left, 0), lambda: asyncio.ensure_future(self.close(code=realtime.CLOSE_UNAUTHENTICATED))
        )

    async def _refuse(self, *, subprotocol: str | None, code: int) -> None:
        # Accept first: a close before the handshake is an HTTP 403 without a code,
        # and the app needs the code to tell "log in again" from "account gone".
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

    async def stream_event(self, message: dict[str, Any]) -> None:
        frame_id = message["id"]
        if frame_id in self.recent_frame_id_set:
            return
        if len(self.recent_frame_ids) == RECENT_FRAME_IDS:
            self.recent_frame_id_set.discard(self.recent_frame_ids[0])
        self.recent_frame_ids.append(frame_id)
        self.recent_frame_id_set.add(frame_id)
        await self.send(text_data=message["text"])

    async def stream_membership(self, message: dict[str, Any]) -> None:
        group = realtime.member_group(message["group_id"])
        if message["joined"] and group not in self.groups:
            self.groups.append(group)
            await self.channel_layer.group_add(group, self.channel_name)
        elif not message["joined"] and group in self.groups:
            self.groups.remove(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def stream_close(self, message: dict[str, Any]) -> None:
        await self.close(code=message["code"])

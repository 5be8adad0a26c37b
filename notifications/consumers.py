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
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
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
    host = origin.split("://", 1)[-1].split("/", 1)[0]
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return any(allowed == hostname or (allowed.startswith(".") and hostname.endswith(allowed)) for allowed in settings.ALLOWED_HOSTS)


@database_sync_to_async
def _authenticate(raw: str) -> tuple[Any, Any, list[int]] | None:
    from accounts.authentication import authenticate_token
    from accounts.models import Membership

    try:
        user, token = authenticate_token(raw)
    except AuthenticationFailed:
        return None
    if user.organization_id is None:
        return None
    group_ids = list(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    return user, token, group_ids


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
        self.expiry_timer: asyncio.TimerHandle | None = None
        headers = dict(self.scope.get("headers", []))
        origin = headers.get(b"origin")
        if not _origin_allowed(origin.decode("latin-1") if origin is not None else None):
            # Refused before the handshake: a foreign web page gets an HTTP 403.
            await self.close()
            return
        raw, subprotocol = self._token()
        authenticated = await _authenticate(raw) if raw else None
        # The subprotocol is echoed as the fixed name, never the token itself.
        await self.accept(subprotocol=subprotocol)
        if authenticated is None:
            await self.close(code=realtime.CLOSE_UNAUTHENTICATED)
            return
        user, token, group_ids = authenticated
        self.user_id = user.pk
        self.groups = [
            realtime.user_group(user.pk),
            realtime.org_group(user.organization_id),
            realtime.token_group(token.pk),
            *(realtime.member_group(group_id) for group_id in group_ids),
        ]
        await asyncio.gather(*(self.channel_layer.group_add(group, self.channel_name) for group in self.groups))
        seconds_left = (token.expires_at - timezone.now()).total_seconds()
        # A token that expires while connected ends the stream like a revoked one.
        self.expiry_timer = asyncio.get_running_loop().call_later(
            max(seconds_left, 0), lambda: asyncio.ensure_future(self.close(code=realtime.CLOSE_UNAUTHENTICATED))
        )

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
        if message["id"] in self.recent_frame_ids:
            return
        self.recent_frame_ids.append(message["id"])
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

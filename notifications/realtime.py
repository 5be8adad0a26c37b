"""Channel-layer side of realtime: group names and what is sent to them.

Every socket joins `user.<id>` and `token.<id>` with a channel of its own; its
`org.<id>` and one `group.<id>` per membership through the process's broadcast
hub (`notifications.hub`), which holds one channel for all of them. Events travel as pre-rendered JSON text so that each socket only
forwards a string (no per-socket serialisation of a post card); control
messages tell sockets to join/leave a group or to close.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def org_group(organization_id: int) -> str:
    return f"org.{organization_id}"


def member_group(group_id: int) -> str:
    return f"group.{group_id}"


def token_group(token_id: int) -> str:
    return f"token.{token_id}"


def frame_text(*, frame_id: uuid.UUID | str, type: str, data: dict[str, Any], at: datetime) -> str:
    return orjson.dumps({"id": str(frame_id), "type": type, "data": data, "at": at}).decode()


def event_message(*, group: str, frame_id: uuid.UUID | str, text: str) -> dict[str, Any]:
    # The group travels in the message: the process's broadcast hub receives every
    # group on one channel and writes the frame to that group's local sockets.
    return {"type": "stream.event", "group": group, "id": str(frame_id), "text": text}


def group_send_many(messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Send to several groups in one event loop (one Redis connection, not one per group)."""
    messages = list(messages)
    if not messages:
        return
    layer = get_channel_layer()

    async def send_all() -> None:
        await asyncio.gather(*(layer.group_send(group, message) for group, message in messages))

    async_to_sync(send_all)()


def sockets_close(*, groups: Iterable[str], code: int) -> None:
    group_send_many((group, {"type": "stream.close", "code": code}) for group in groups)


def sockets_membership(*, user_id: int, group_id: int, joined: bool) -> None:
    group_send_many([(user_group(user_id), {"type": "stream.membership", "group_id": group_id, "joined": joined})])

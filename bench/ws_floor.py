"""The floor of the WebSocket scenarios: a bare ASGI app doing the same broadcast.

    uvicorn bench.ws_floor:app --ws-per-message-deflate false --lifespan off

No Django, no Channels, no authentication: every socket is accepted and kept in a
set; one Redis pub/sub subscription per process (channel `WS_FLOOR_CHANNEL`)
forwards each published text to every local socket. The same client and the same
publisher as the real stream measure it, so the ratio is our overhead.
"""

from __future__ import annotations

import asyncio
import os

CHANNEL = os.environ.get("WS_FLOOR_CHANNEL", "bench-floor")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

_sockets: set = set()
_listener: asyncio.Task | None = None


async def _listen() -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    await pubsub.subscribe(CHANNEL)
    async for message in pubsub.listen():
        if message["type"] != "message":
            continue
        event = {"type": "websocket.send", "text": message["data"].decode()}
        await asyncio.gather(*(send(event) for send in list(_sockets)), return_exceptions=True)


async def app(scope, receive, send) -> None:
    global _listener
    if scope["type"] != "websocket":
        # A health check for the benchmark's "is it up" poll.
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    if _listener is None:
        _listener = asyncio.create_task(_listen())
    subprotocols = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": subprotocols[0] if subprotocols else None})
    _sockets.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
    finally:
        _sockets.discard(send)

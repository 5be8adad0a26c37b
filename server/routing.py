from django.urls import path, re_path

from notifications.consumers import StreamConsumer


async def unknown_path(scope, receive, send):
    """Any other WebSocket path: the handshake is refused (the server answers HTTP 403).

    Channels' router raises on a path it does not know, which uvicorn logs as an error with a
    traceback and answers with a 500: every scanner probing `/ws/...` filled the error log.
    """
    message = await receive()
    if message["type"] == "websocket.connect":
        await send({"type": "websocket.close", "code": 1008})


# WebSocket routes (HTTP routes are in server/urls.py); the last one catches every other path.
websocket_urlpatterns: list = [
    path("ws/v1/stream", StreamConsumer.as_asgi()),
    re_path(r"", unknown_path),
]

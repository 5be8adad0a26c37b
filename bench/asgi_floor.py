"""The F5 floor: a bare ASGI app answering a fixed JSON body, no Django.

    .venv/bin/python bench/f5_wrk.py --app bench.asgi_floor:application --paths /api/v1/me

uvicorn's own cost per request (HTTP parsing, the event loop): what any Python server
pays before the application does anything.
"""

BODY = b'{"count":0}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})

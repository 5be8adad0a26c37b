"""CPU milliseconds per request, in process, through the real ASGI application (F5).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/feedapp_bench REDIS_URL=redis://127.0.0.1:6379/5 \
        .venv/bin/python bench/request_cost.py [--requests 1000] [--profile /me]

Wall clock on a shared 2-core machine is noise; `time.process_time()` (all threads of this
process) over N sequential requests is not. Requests go through `server.asgi.application`
with the production settings of `api_bench.py` (DEBUG off, pool, Redis throttles), so the
figure covers Django's ASGI handler, middleware, authentication, throttles and the view;
only uvicorn's HTTP parsing is missing. `--profile PATH` prints the cProfile cumulative
table of that path's work on the HTTP thread instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.api_bench import PRODUCTION_ENV

PATHS = ["/api/v1/me", "/api/v1/notifications/unread-count", "/healthz"]


async def _get(application, path: str, token: str) -> tuple[int, bytes]:
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []
    received = False

    async def receive() -> dict:
        nonlocal received
        if not received:
            received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # never: the client does not disconnect
        return {}

    async def send(message: dict) -> None:
        sent.append(message)

    await application(scope, receive, send)
    status = sent[0]["status"]
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return status, body


async def _run(application, path: str, token: str, count: int) -> float:
    for _ in range(20):  # warm: imports, pool, translations
        status, body = await _get(application, path, token)
        assert status == 200, (status, body[:300])
    started = time.process_time()
    for _ in range(count):
        await _get(application, path, token)
    return (time.process_time() - started) * 1000 / count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    for name, value in PRODUCTION_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

    from bench.api_bench import bench_user, new_token
    from server.asgi import application

    user = asyncio.run(_sync(bench_user))
    token = asyncio.run(_sync(new_token, user, "request-cost"))
    if args.profile:
        from server import http

        # The request runs on the server's HTTP threads (server/http.py), which a profile
        # enabled on this thread does not see: profile the thread's part of each request there.
        profile = cProfile.Profile()
        slot_run = http._Slot.run
        http._Slot.run = lambda slot, function, *rest: slot_run(slot, lambda *a: profile.runcall(function, *a), *rest)
        asyncio.run(_run(application, args.profile, token, args.requests))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
        return
    from datetime import timedelta

    from django.utils import timezone

    from feed.views.feed import _encode_since

    # The app-open's catch-up: a cursor a minute old (bench/rush.py's `--away`), and the feed page.
    catch_up = "/api/v1/feed/updates?since=" + _encode_since((timezone.now() - timedelta(seconds=60), 0))
    for path in [*PATHS, "/api/v1/feed", catch_up]:
        cost = asyncio.run(_run(application, path, token, args.requests))
        print(f"{path[:45]:45s} {cost:6.3f} CPU ms/request over {args.requests}")


async def _sync(function, *args):
    from asgiref.sync import sync_to_async

    return await sync_to_async(function)(*args)


if __name__ == "__main__":
    main()

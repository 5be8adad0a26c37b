"""Django's HTTP side under ASGI with one thread hop per request (issue #10, F5).

Django's own `ASGIHandler` runs our sync middleware and views from the event loop: a new
thread for every request (`ThreadSensitiveContext`), and five or more loop↔thread hops for
one request (the `request_started` signal, the sync middleware chain, back to the loop for
the async inner handler, out again to the view, `response.close()`). Under load those hops
and the thread start cost more CPU than the view (bench/request_cost.py, bench/f5_wrk.py).

This handler does what a threaded WSGI server does, inside the ASGI server that also holds
the WebSockets: the body is read on the loop, then the whole Django request (signals,
middleware, view, closing) runs in one call on one of a fixed set of worker threads, and the
response is sent from the loop. A request keeps its thread until it is done (a streamed
response is iterated on the same thread that opened its cursor), so a thread is a request
slot: `HTTP_THREADS` of them per process bound the requests in flight, and the ones beyond
wait on the loop, not in the database pool.

Garbage collection: Django, DRF and our modules are a few hundred thousand objects that live
as long as the process, and CPython's full collections re-scanned them all, every few hundred
requests, while a request waited: the F3 p99 (8 clients on the feed) was 127 ms with them and
52-65 ms once they were frozen out of the collector's reach (`gc.freeze()`). server/asgi.py
freezes after start-up; the handler once more after its first requests (URL resolvers,
translation catalogues, compiled queries and pools are built lazily by the first requests).

The WebSocket side is untouched (Channels, server/asgi.py).
"""

from __future__ import annotations

import asyncio
import gc
import json
import tempfile
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import FileResponse
from django.urls import set_script_prefix
from django.utils.translation import gettext as _

from server.api.exceptions import error_body

# Requests after which what the first requests built lazily is frozen too (see above).
FREEZE_AFTER_REQUESTS = 200
# Multipart framing around an upload's file: generous, so only real oversize is refused.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    pass


def max_request_body_bytes() -> int:
    """The largest body any route takes: an upload at the media limit, or a JSON body at Django's."""
    return max(settings.MEDIA_MAX_UPLOAD_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE) + MULTIPART_OVERHEAD_BYTES


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def freeze_long_lived_objects() -> None:
    """Move every object alive now out of the collector's reach (gc.freeze): start-up state."""
    gc.collect()
    gc.freeze()


class _Slot:
    """One worker thread; a request holds it from request_started to request_finished."""

    def __init__(self, index: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"http-{index}")

    def run(self, function, *args):
        # asgiref's own thread entry, on this slot's thread: the request's context
        # (contextvars) travels with it and what it sets stays with that request, and
        # async_to_sync inside the request (Channels' group_send, the in-memory channel layer
        # of the embedded default) runs on the server's event loop, as under Django's handler.
        return sync_to_async(function, thread_sensitive=False, executor=self.executor)(*args)


class ThreadedASGIHandler(ASGIHandler):
    def __init__(self, threads: int | None = None, freeze_after: int = FREEZE_AFTER_REQUESTS) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)  # the whole chain runs on the worker thread
        self.threads = threads or settings.HTTP_THREADS
        self._all: list[_Slot] = []
        self._free: asyncio.Queue[_Slot] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.freeze_after = freeze_after
        self.requests = 0

    def _slots(self) -> asyncio.Queue[_Slot]:
        loop = asyncio.get_running_loop()
        if self._free is None or self._loop is not loop:
            # The threads live as long as the process; the queue belongs to one event loop
            # (a server has one; tests run several in turn).
            if not self._all:
                self._all = [_Slot(index) for index in range(self.threads)]
            self._free = asyncio.Queue()
            self._loop = loop
            for slot in self._all:
                self._free.put_nowait(slot)
        return self._free

    def close(self) -> None:
        """Close the threads' database connections and stop them (tests; a server just exits)."""
        for slot in self._all:
            slot.executor.submit(connections.close_all).result()
            slot.executor.shutdown()
        self._all, self._free, self._loop = [], None, None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        try:
            body_file = await self.read_body_capped(scope, receive)
        except RequestAborted:
            return
        except BodyTooLarge:
            await self._send_too_large(send)
            return
        free = self._slots()
        slot = await free.get()
        try:
            response = await slot.run(self._respond, scope, body_file)
            if not response.streaming:
                await self.send_response(response, send)  # closed on the thread already
                return
            try:
                if response.is_async:
                    await self.send_response(response, send)
                else:
                    await self._send_streaming(slot, response, send)
            finally:
                await slot.run(response.close)
        finally:
            body_file.close()
            free.put_nowait(slot)
            self.requests += 1
            if self.requests == self.freeze_after:
                freeze_long_lived_objects()

    async def read_body_capped(self, scope, receive):
        """The body, refused (BodyTooLarge) as soon as it passes `max_request_body_bytes()`.

        Django's `read_body` spools any body to disk, however large, before a view can look at its
        size; a chunked upload (no Content-Length) of 20 MiB then reached the multipart parser as an
        empty body and was a 400 (issue #25 item 5). Declared or counted, too much is a 413 here.
        """
        limit = max_request_body_bytes()
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            raise BodyTooLarge()
        body_file = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b")  # noqa: SIM115 (closed by __call__)
        size = 0
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise RequestAborted()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge()
                body_file.write(chunk)
                if not message.get("more_body", False):
                    break
        except BaseException:
            body_file.close()
            raise
        body_file.seek(0)
        if declared is None and size:
            # A chunked body: Django's parsers read CONTENT_LENGTH, which only the header sets.
            body_file.counted_length = size
        return body_file

    async def _send_too_large(self, send) -> None:
        # Before Django's request exists: the deployment's language, the error envelope by hand.
        message = _("The request is larger than %(limit).0f MB.") % {"limit": max_request_body_bytes() / (1024 * 1024)}
        body = json.dumps(error_body("too_large", message)).encode()
        headers = [(b"Content-Type", b"application/json"), (b"Content-Length", str(len(body)).encode()), (b"Connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def create_request(self, scope, body_file):
        request, response = super().create_request(scope, body_file)
        counted = getattr(body_file, "counted_length", None)
        if request is not None and counted is not None and "CONTENT_LENGTH" not in request.META:
            request.META["CONTENT_LENGTH"] = str(counted)
        return request, response

    def _respond(self, scope, body_file):
        """Everything Django does for one request, on the worker thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # The body is bytes already: close now (request_finished, the connection back to
            # the pool) instead of a second trip to this thread after sending.
            response.close()
        return response

    async def _send_streaming(self, slot: _Slot, response, send) -> None:
        """A sync iterator (the audit CSV reads a cursor) is iterated on the request's thread."""
        await send({"type": "http.response.start", "status": response.status_code, "headers": self._headers(response)})
        chunks = iter(response.streaming_content)
        while True:
            part = await slot.run(next, chunks, None)
            if part is None:
                break
            for chunk, _last in self.chunk_bytes(part):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body"})

    @staticmethod
    def _headers(response) -> list[tuple[bytes, bytes]]:
        headers = [
            (header.encode("ascii") if isinstance(header, str) else header, value.encode("latin1") if isinstance(value, str) else value)
            for header, value in response.items()
        ]
        headers.extend((b"Set-Cookie", cookie.output(header="").encode("ascii").strip()) for cookie in response.cookies.values())
        return headers

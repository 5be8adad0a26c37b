"""The WebSocket protocol the web server speaks: uvicorn's wsproto implementation, bounded.

Why wsproto and not uvicorn's default (the `websockets` library's legacy protocol): an idle
socket costs the process 30.5 KiB instead of 42.8, and one process accepts 425 sockets/s
instead of 324 (5,000 sockets of the benchmark organisation on one process, issue #26; the
bare floor app: 17.2 against 29.4 KiB, 2,630 against 818 connects/s). The legacy protocol keeps
three tasks, a stream reader and a frame queue per connection; wsproto keeps a parser and two
buffers.

What the `websockets` implementation did that wsproto does not, and what stands in for it:

- A message size limit (uvicorn's `ws_max_size`): uvicorn's wsproto protocol buffers a message
  whole, however large (its own "todo"). `BoundedWSProtocol` closes with 1009 (message too
  big) as soon as a message grows past the limit; the app sends only `{"type": "ping"}`, so
  the deployment's limit is small (`server.serve --ws-max-size`, 64 KiB).
- Server pings every 20 s (a peer that stopped answering is closed): wsproto sends none. A
  vanished phone is found by TCP keepalive on every accepted socket instead (the listening
  socket's options, inherited by each connection: `server.serve.bind_reuseport`), by the
  load balancer's idle timeout (no app ping for 60 s), and by the frames in flight it stops
  taking (closed with 1013, notifications.consumers). The app's own ping (docs/realtime.md)
  is what keeps a healthy socket alive behind a load balancer, as before.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto.connection import ConnectionState
from wsproto.events import BytesMessage, CloseConnection, TextMessage

CLOSE_MESSAGE_TOO_BIG = 1009


class BoundedWSProtocol(WSProtocol):
    """uvicorn's wsproto protocol with `config.ws_max_size` enforced on incoming messages."""

    def handle_text(self, event: TextMessage) -> None:
        if not self._refuse_oversize(len(self.text) + len(event.data)):
            super().handle_text(event)

    def handle_bytes(self, event: BytesMessage) -> None:
        if not self._refuse_oversize(len(self.bytes) + len(event.data)):
            super().handle_bytes(event)

    def _refuse_oversize(self, size: int) -> bool:
        """True when the message is dropped: over the limit (the socket is closed with 1009), or
        arriving after that close. wsproto hands a large message over in pieces as they arrive,
        so at most one piece past the limit is ever held."""
        if self.close_sent:
            return True
        if size <= self.config.ws_max_size:
            return False
        self.text, self.bytes = "", b""
        self.close_sent = True
        if self.conn.state == ConnectionState.OPEN:
            self.transport.write(self.conn.send(CloseConnection(code=CLOSE_MESSAGE_TOO_BIG, reason="message too big")))
        self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_MESSAGE_TOO_BIG})
        self.transport.close()
        return True

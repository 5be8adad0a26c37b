"""One broadcast subscriber per process: organisation and group frames reach local sockets through it.

When every socket joined `org.<id>` and its `group.<id>`s with a channel of its own, one
broadcast to 10,000 local sockets cost 10,000 queue puts, msgpack decodes and consumer
dispatches, and a process fell seconds behind (docs/benchmarks.md, W4). Here each event
loop holds one channel, added to each broadcast group that has a local socket and
discarded when the last one leaves; one reader task writes each frame straight to the
group's sockets. Only the channel-layer API is used, so the in-memory layer (development,
tests) and `RedisPubSubChannelLayer` (production) both work.

Per-user and per-token messages (personal frames, membership changes, closes) still
reach each socket's own channel: they are rare and addressed to one person.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Any, Protocol

from server.obs import metrics

logger = logging.getLogger(__name__)

# After a burst of connects (shift start), the sockets' objects live for hours; CPython's
# full collections kept re-scanning them while each broadcast's short-lived tasks pushed
# survivors into the oldest generation (0.2-0.5 s pauses every other broadcast at 5,000
# sockets). Once a burst of at least this many connects has been quiet for a while, the
# live objects are moved out of the collector's reach (gc.freeze).
FREEZE_AFTER_CONNECTS = 500
FREEZE_AFTER_QUIET_SECONDS = 2.0


class LocalSocket(Protocol):
    def forward(self, *, frame_id: str, text: str) -> None: ...


class BroadcastHub:
    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.channel_name: str | None = None
        # A group is a key only while the hub's channel is in it (or being added):
        # a socket finding its group here needs no channel-layer call.
        self.members: dict[str, set[LocalSocket]] = {}
        # Serialises subscription changes, so that a discard of an emptied group and
        # a join that brings it back reach the layer in the order they happened.
        self.lock = asyncio.Lock()
        self.reader: asyncio.Task[None] | None = None
        self.pending_discards: set[asyncio.Task[None]] = set()
        self.connects_since_freeze = 0
        self.last_connect_at = 0.0
        self.freeze_timer: asyncio.TimerHandle | None = None

    def socket_connected(self) -> None:
        loop = asyncio.get_running_loop()
        self.connects_since_freeze += 1
        self.last_connect_at = loop.time()
        if self.freeze_timer is None and self.connects_since_freeze >= FREEZE_AFTER_CONNECTS:
            self.freeze_timer = loop.call_later(FREEZE_AFTER_QUIET_SECONDS, self._freeze_when_quiet)

    def _freeze_when_quiet(self) -> None:
        loop = asyncio.get_running_loop()
        quiet_for = loop.time() - self.last_connect_at
        if quiet_for < FREEZE_AFTER_QUIET_SECONDS:
            self.freeze_timer = loop.call_later(FREEZE_AFTER_QUIET_SECONDS - quiet_for, self._freeze_when_quiet)
            return
        self.freeze_timer = None
        self.connects_since_freeze = 0
        # Unfreeze and collect first: cyclic garbage frozen last time (sockets closed
        # since) is freed now, so frozen memory never exceeds an earlier peak.
        gc.unfreeze()
        gc.collect()
        gc.freeze()

    async def join(self, group: str, socket: LocalSocket) -> None:
        """Returns once frames sent to `group` from now on reach `socket`."""
        members = self.members.get(group)
        if members is not None:
            members.add(socket)
            return
        async with self.lock:
            if self.channel_name is None:
                self.channel_name = await self.layer.new_channel()
                self.reader = asyncio.get_running_loop().create_task(self._read())
            members = self.members.get(group)
            if members is None:
                await self.layer.group_add(group, self.channel_name)
                members = self.members[group] = set()
            members.add(socket)

    def leave(self, group: str, socket: LocalSocket) -> None:
        """Frames stop at once; the layer subscription goes when the group has no local socket left."""
        members = self.members.get(group)
        if members is None or socket not in members:
            return
        members.discard(socket)
        if members:
            return
        del self.members[group]
        task = asyncio.get_running_loop().create_task(self._discard(group))
        self.pending_discards.add(task)
        task.add_done_callback(self.pending_discards.discard)

    async def _discard(self, group: str) -> None:
        async with self.lock:
            # A socket may have joined again while this waited for the lock.
            if group not in self.members and self.channel_name is not None:
                await self.layer.group_discard(group, self.channel_name)

    async def _read(self) -> None:
        while True:
            message = await self.layer.receive(self.channel_name)
            try:
                self.deliver(message)
            except Exception:
                logger.exception("broadcast delivery failed")

    def deliver(self, message: dict[str, Any]) -> None:
        if message.get("type") != "stream.event":
            return
        members = self.members.get(message.get("group", ""))
        if not members:
            return
        frame_id, text = message["id"], message["text"]
        # A copy: a socket closed by `forward` (too far behind) leaves the set meanwhile.
        for socket in list(members):
            socket.forward(frame_id=frame_id, text=text)
        metrics.frames_flush()


_hubs: dict[asyncio.AbstractEventLoop, BroadcastHub] = {}


def hub_for(layer: Any) -> BroadcastHub:
    """The hub of the running event loop (one per process under an ASGI server)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None or hub.layer is not layer:
        # Tests run each scenario in an event loop of its own; forget the finished ones.
        for finished in [other for other in _hubs if other.is_closed()]:
            del _hubs[finished]
        hub = _hubs[loop] = BroadcastHub(layer)
    return hub

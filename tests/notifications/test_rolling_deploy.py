"""Rolling deploy: frames from workers of the release before the broadcast hub still arrive (#25).

Those workers sent `stream.event` without `"group"`; the hub, which reads every group on one
channel, routed by that key and dropped them, so during a deploy (old workers beside new web
processes) connected phones missed frames until their next catch-up. The production layer
(notifications.layers) names the group from the Redis pub/sub channel the message came on.
Needs Redis (REDIS_URL), as the fix lives in the Redis layer.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer

from notifications.hub import BroadcastHub
from notifications.layers import GroupTaggingPubSubChannelLayer
from notifications.realtime import event_message

REDIS_URL = os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="SKIPPED: no REDIS_URL (the fix is in the Redis pub/sub layer)")


class Socket:
    def __init__(self) -> None:
        self.frames: list[str] = []

    def forward(self, *, frame_id: str, text: str) -> None:
        self.frames.append(frame_id)


def old_worker_message(frame_id: str) -> dict:
    # What the release before the hub sent (notifications.realtime.event_message then).
    return {"type": "stream.event", "id": frame_id, "text": "{}"}


async def exchange(layer_class) -> tuple[list[str], list[str], dict]:
    prefix = f"rolling-{uuid.uuid4().hex[:8]}"
    web = layer_class(hosts=[REDIS_URL], prefix=prefix)  # the new web process
    worker = RedisPubSubChannelLayer(hosts=[REDIS_URL], prefix=prefix)  # an old worker: plain layer, old format
    hub = BroadcastHub(web)
    north, south = Socket(), Socket()
    await hub.join("group.1", north)
    await hub.join("group.2", south)
    personal = await web.new_channel()
    await web.group_add("user.7", personal)
    await asyncio.sleep(0.2)  # subscriptions in place
    await worker.group_send("group.1", old_worker_message("old-1"))
    await worker.group_send("group.1", event_message(group="group.1", frame_id="new-1", text="{}"))
    await worker.group_send("group.2", old_worker_message("old-2"))
    await worker.group_send("user.7", {"type": "stream.close", "code": 4403})
    personal_message = await asyncio.wait_for(web.receive(personal), timeout=5)
    for _ in range(50):
        if len(north.frames) + len(south.frames) >= 3:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)  # nothing more arrives
    hub.reader.cancel()
    await web.flush()
    await worker.flush()
    return north.frames, south.frames, personal_message


def test_old_and_new_frames_reach_the_sockets_of_their_group_only():
    north, south, personal = asyncio.run(exchange(GroupTaggingPubSubChannelLayer))
    assert sorted(north) == ["new-1", "old-1"]
    assert south == ["old-2"]
    assert personal == {"type": "stream.close", "code": 4403}  # other messages untouched


def test_the_plain_layer_drops_frames_of_old_workers():
    # Why the layer exists: the hub alone cannot tell where a group-less frame belongs.
    north, south, _ = asyncio.run(exchange(RedisPubSubChannelLayer))
    assert north == ["new-1"] and south == []

"""The production channel layer: channels_redis's pub/sub layer, telling the hub which group a
broadcast arrived for.

The process's broadcast hub (notifications.hub) reads every group on one channel and routes a
`stream.event` by its `"group"` key. Workers of the release before the hub sent
`stream.event` without it, and during a rolling deploy (old workers beside new web processes)
the hub dropped those frames: clients missed them until their next catch-up (issue #25).
The group is known without the sender's help: a pub/sub message arrives on the group's Redis
channel. This layer keeps that name with the message and, for a `stream.event` without a
`"group"`, puts it in, so old and new senders both reach the sockets.

Built on channels_redis 4.3's pub/sub classes (pinned in requirements.txt); the test in
tests/notifications/test_rolling_deploy.py sends through real Redis and fails if an upgrade
changes what this relies on.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection, _wrap_close
from channels_redis.utils import decode_hosts

GROUP_CHANNEL_MARK = "__group__"


class _GroupDelivery:
    """A message as it arrived on a group's pub/sub channel: its bytes and the group."""

    __slots__ = ("data", "group")

    def __init__(self, group: str, data: bytes) -> None:
        self.group = group
        self.data = data


class _GroupTaggingShard(RedisSingleShardConnection):
    def _receive_message(self, message: Any) -> None:
        if message is None:
            return
        name = message["channel"]
        if isinstance(name, bytes):
            name = name.decode()
        layer = self.channel_layer
        if name in layer.channels or name not in layer.groups:
            super()._receive_message(message)
            return
        delivery = _GroupDelivery(name.split(GROUP_CHANNEL_MARK, 1)[-1], message["data"])
        for channel_name in layer.groups[name]:
            if channel_name in layer.channels:
                layer.channels[channel_name].put_nowait(delivery)


class _GroupTaggingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, hosts=None, *args: Any, **kwargs: Any) -> None:
        super().__init__(hosts, *args, **kwargs)
        self._shards = [_GroupTaggingShard(host, self) for host in decode_hosts(hosts)]


class GroupTaggingPubSubChannelLayer(RedisPubSubChannelLayer):
    """`channels_redis.pubsub.RedisPubSubChannelLayer`, and a `stream.event` always names its group."""

    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _GroupTaggingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer

    def deserialize(self, message: Any) -> dict[str, Any]:
        if not isinstance(message, _GroupDelivery):
            return super().deserialize(message)
        decoded = super().deserialize(message.data)
        if decoded.get("type") == "stream.event" and "group" not in decoded:
            decoded["group"] = message.group  # sent by a worker of the release before the hub
        return decoded

"""Push reactions to accounts' explicit signals: devices follow the session and the account.

Connected in `NotificationsConfig.ready()`. accounts sends these after commit.
"""

from __future__ import annotations

from typing import Any

from notifications import push_services


def remove_devices_of_sessions(sender: Any, *, user_id: int, token_ids: list[int], **kwargs: Any) -> None:
    push_services.devices_remove_for_sessions(user_id=user_id, token_ids=token_ids)


def remove_devices_of_user(sender: Any, *, user: Any, **kwargs: Any) -> None:
    push_services.devices_remove_for_user(user_id=user.pk)

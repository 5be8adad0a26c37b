"""Reactions to accounts' explicit signals (connected in apps.py)."""

from __future__ import annotations

from notifications import push_services


def remove_devices_of_sessions(sender, *, user_id: int, token_ids: list[int], **kwargs) -> None:
    push_services.devices_remove_for_sessions(user_id=user_id, token_ids=token_ids)


def remove_devices_of_user(sender, *, user, **kwargs) -> None:
    push_services.devices_remove_for_user(user_id=user.pk)

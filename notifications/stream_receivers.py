"""Realtime reactions to accounts' explicit signals: open sockets follow the account.

Connected in `NotificationsConfig.ready()`. accounts sends these after commit.
"""

from __future__ import annotations

import logging
from typing import Any

from notifications import realtime

logger = logging.getLogger(__name__)


def on_membership_changed(sender: Any, *, user_id: int, group_id: int, joined: bool, **kwargs: Any) -> None:
    realtime.sockets_membership(user_id=user_id, group_id=group_id, joined=joined)


def on_auth_tokens_revoked(sender: Any, *, user_id: int, token_ids: list[int], **kwargs: Any) -> None:
    from accounts.models import User

    # Deactivation revokes every token first: its sockets must close with the
    # "deactivated" code, not the "log in again" one.
    deactivated = User.objects.filter(pk=user_id, is_active=False).exists()
    code = realtime.CLOSE_FORBIDDEN if deactivated else realtime.CLOSE_UNAUTHENTICATED
    realtime.sockets_close(groups=[realtime.token_group(token_id) for token_id in token_ids], code=code)


def on_user_deactivated(sender: Any, *, user: Any, **kwargs: Any) -> None:
    realtime.sockets_close(groups=[realtime.user_group(user.pk)], code=realtime.CLOSE_FORBIDDEN)

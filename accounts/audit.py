"""The one way to put an administrative action on the audit log: `audit_record`.

It sends `accounts.signals.admin_action` synchronously, inside the caller's transaction; the
receiver (moderation's audit log, wired in its apps.py) writes the entry in that same
transaction, so an action and its entry commit or roll back together, and a crash between a
commit and an on_commit hook cannot lose the entry. accounts imports no app: whoever keeps
the log connects to the signal.
"""

from __future__ import annotations

from typing import Any

from accounts import signals


def audit_record(
    *,
    organization_id: int,
    actor: Any,
    action: str,
    target_type: str,
    target_id: int | None,
    target_label: str | None = None,
    before: Any = None,
    after: Any = None,
    note: str = "",
    sender: Any = None,
) -> None:
    """Record `action` (`<area>.<verb>`, e.g. `user.updated`) on `target`; `actor` None is the system.

    `target_label` is the target's readable name at the time (None: the log looks it up for
    people and groups); `before`/`after` are JSON-ready snapshots of what changed.
    """
    signals.admin_action.send(
        sender=sender if sender is not None else audit_record,
        organization_id=organization_id,
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        before=before,
        after=after,
        note=note,
    )

"""The organisation's audit log: the receiver that writes it, its selectors, the redaction switch.

Services record actions with `accounts.audit.audit_record`, which sends
`accounts.signals.admin_action` synchronously inside their own transaction;
`record_admin_action` (connected in moderation/apps.py) writes the row in that same
transaction, so an action and its entry commit together or not at all. The rows are
`moderation.models.AuditEntry` (append-only); the client address comes from
`moderation.middleware`.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from accounts.models import Group, Invitation, User
from moderation.middleware import current_client_ip
from moderation.models import AuditEntry

__all__ = ["AuditEntry", "audit_entries_about", "audit_entry_list", "record_admin_action", "redaction_allowed"]

# PostgreSQL session setting the trigger checks; set with SET LOCAL (one transaction) by erasure.
REDACTION_SETTING = "feedapp.audit_redaction"


def _label(target_type: str, target_id: int | None) -> str:
    if target_id is None:
        return ""
    if target_type == "user":
        return User.objects.filter(pk=target_id).values_list("name", flat=True).first() or ""
    if target_type == "group":
        return Group.objects.filter(pk=target_id).values_list("name", flat=True).first() or ""
    return ""


def record_admin_action(
    sender: Any,
    *,
    organization_id: int,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: int | None,
    before: Any = None,
    after: Any = None,
    note: str = "",
    target_label: str | None = None,
    **kwargs: Any,
) -> AuditEntry:
    return AuditEntry.objects.create(
        organization_id=organization_id,
        actor=actor if actor is not None and actor.pk else None,
        action=action[:64],
        target_type=target_type[:32],
        target_id=target_id,
        target_label=(target_label if target_label is not None else _label(target_type, target_id))[:200],
        before=before,
        after=after,
        note=note or "",
        ip=current_client_ip(),
    )


# --- Selectors ------------------------------------------------------------------------------


def audit_entry_list(
    *, actor: User, action: str = "", actor_id: int | None = None, target_type: str = "", target_id: int | None = None
) -> QuerySet[AuditEntry]:
    """The actor's organisation's log, newest first; `action` matches a prefix (`user.` = every user action)."""
    queryset = AuditEntry.objects.filter(organization_id=actor.organization_id)
    if action:
        queryset = queryset.filter(action__startswith=action)
    if actor_id is not None:
        queryset = queryset.filter(actor_id=actor_id)
    if target_type:
        queryset = queryset.filter(target_type=target_type)
    if target_id is not None:
        queryset = queryset.filter(target_id=target_id)
    return queryset.select_related("actor").order_by("-created_at", "-id")


def audit_entries_about(*, user: User) -> QuerySet[AuditEntry]:
    """Entries where the person acted or was the target, or their invitation was (for their data export)."""
    invitation_ids = Invitation.objects.filter(accepted_user=user).values("pk")
    return (
        AuditEntry.objects.filter(organization_id=user.organization_id)
        .filter(Q(actor=user) | Q(target_type="user", target_id=user.pk) | Q(target_type="invitation", target_id__in=invitation_ids))
        .order_by("created_at", "id")
    )


def redaction_allowed() -> None:
    """Open the PostgreSQL append-only trigger for redaction, until the current transaction ends."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [REDACTION_SETTING])

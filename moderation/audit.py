"""The organisation's audit log: one append-only row per administrative or moderation action.

Services announce actions with `accounts.signals.admin_action`, synchronously and inside
their own transaction; the receiver below writes the row in that same transaction, so an
action and its entry commit together or not at all. Nothing updates or deletes a row:
the model refuses it, no API or admin path exists, and on PostgreSQL a trigger refuses
it too (migration 0002). The one sanctioned change is erasure redacting a person's name
and e-mail (moderation.privacy), which opens the trigger for its own transaction only.
"""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from accounts import signals
from accounts.models import Group, Invitation, Organization, User

# The client address of the request being served, for the entries it causes (None in tasks).
_client_ip: ContextVar[str | None] = ContextVar("audit_client_ip", default=None)

# PostgreSQL session setting the trigger checks; set with SET LOCAL (one transaction) by erasure.
REDACTION_SETTING = "feedapp.audit_redaction"


class AuditEntry(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation"))
    # PROTECT, not SET_NULL: clearing the actor would be an update of the log. People are
    # anonymised on erasure, never deleted.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("done by")
    )
    action = models.CharField(max_length=64, verbose_name=_("action"))
    target_type = models.CharField(max_length=32, verbose_name=_("target type"))
    target_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("target id"))
    # The target's name when the action happened: the log must read right after a rename or deletion.
    target_label = models.CharField(max_length=200, blank=True, verbose_name=_("target"))
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder, verbose_name=_("before"))
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder, verbose_name=_("after"))
    note = models.TextField(blank=True, verbose_name=_("note"))
    # The address the request came from (behind NUM_PROXIES proxies); empty for scheduled work.
    ip = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("IP address"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["organization", "-created_at", "-id"], name="audit_recent_idx"),
            models.Index(fields=["organization", "target_type", "target_id"], name="audit_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type} {self.target_id or ''}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not getattr(self, "_redacting", False):
            raise ValueError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("The audit log is append-only.")


def _label(target_type: str, target_id: int | None) -> str:
    if target_id is None:
        return ""
    if target_type == "user":
        return User.objects.filter(pk=target_id).values_list("name", flat=True).first() or ""
    if target_type == "group":
        return Group.objects.filter(pk=target_id).values_list("name", flat=True).first() or ""
    return ""


@receiver(signals.admin_action, dispatch_uid="moderation.audit.record")
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
        ip=_client_ip.get(),
    )


def client_ip(request: Any) -> str | None:
    """The client's address as the rate limits see it: REMOTE_ADDR, or X-Forwarded-For behind NUM_PROXIES proxies."""
    num_proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    address = request.META.get("REMOTE_ADDR")
    if num_proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            address = hops[-min(num_proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


class AuditClientIPMiddleware:
    """Makes the request's client address available to the audit receiver."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        token = _client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _client_ip.reset(token)


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

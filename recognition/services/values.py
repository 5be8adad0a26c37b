from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import User
from recognition.models import CompanyValue
from recognition.services.common import admin_audit
from server.api.exceptions import Conflict

EDITABLE = ("name", "description", "emoji", "active", "position")


def _save(value: CompanyValue) -> CompanyValue:
    try:
        with transaction.atomic():
            value.save()
    except IntegrityError:
        # The only unique rule of a value: its name (any case) in the organisation. A conflict with
        # an existing row, like a group's name, not a malformed request.
        raise Conflict(_("A value with this name already exists."), fields={"name": [_("Already in use.")]})
    return value


def _snapshot(value: CompanyValue) -> dict:
    return {field: getattr(value, field) for field in EDITABLE}


@transaction.atomic
def value_create(*, actor: User, name: str, description: str = "", emoji: str = "", active: bool = True, position: int = 0) -> CompanyValue:
    value = CompanyValue(
        organization_id=actor.organization_id, name=name.strip(), description=description, emoji=emoji, active=active, position=position
    )
    _save(value)
    admin_audit(
        actor=actor,
        action="value.created",
        target_type="company_value",
        target_id=value.pk,
        target_label=value.name,
        after=_snapshot(value),
    )
    return value


@transaction.atomic
def value_update(*, actor: User, value: CompanyValue, **changes) -> CompanyValue:
    before = _snapshot(value)
    for field, new in changes.items():
        if field not in EDITABLE:
            raise TypeError(field)
        setattr(value, field, new.strip() if field == "name" else new)
    _save(value)
    if _snapshot(value) != before:
        admin_audit(
            actor=actor,
            action="value.updated",
            target_type="company_value",
            target_id=value.pk,
            target_label=value.name,
            before=before,
            after=_snapshot(value),
        )
    return value

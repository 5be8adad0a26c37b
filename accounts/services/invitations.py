"""Joining: an invitation by code (one, or a CSV of staff), and activating it into an account."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.audit import audit_record
from accounts.authentication import hash_token
from accounts.models import Group, Invitation, Membership, Role, User
from accounts.services.auth import IssuedToken, token_issue
from accounts.services.groups import _groups_of_org
from server.api.exceptions import Conflict, ValidationFailed

# Codes are typed on a phone: no 0/O/1/I/L. 12 characters of 31 symbols ≈ 59 bits.
INVITATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITATION_CODE_LENGTH = 12
IMPORT_MAX_ROWS = 5000


def _new_invitation_code() -> str:
    return "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_CODE_LENGTH))


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _check_invitable(*, email: str) -> None:
    if User.objects.filter(email__iexact=email).exists():
        raise Conflict(_("A user with this e-mail address already exists."), code="email_in_use", fields={"email": [_("Already in use.")]})


def _send_invitation_mail(*, invitation_id: int, code: str) -> None:
    invitation = Invitation.objects.select_related("organization").get(pk=invitation_id)
    with override(invitation.organization.default_language):
        send_mail(
            subject=_("You are invited to %(org)s") % {"org": invitation.organization.name},
            message=_(
                "Hello %(name)s,\n\nOpen the app and activate your account with this code: %(code)s\nThe code expires on %(expires)s."
            )
            % {"name": invitation.name, "code": code, "expires": invitation.expires_at.date().isoformat()},
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[invitation.email],
        )


def _invitation_create(*, actor: User, email: str, name: str, role: str, groups: list[Group]) -> tuple[Invitation, str]:
    code = _new_invitation_code()
    invitation = Invitation.objects.create(
        organization_id=actor.organization_id,
        email=email.strip().lower(),
        name=name.strip(),
        role=role,
        code_hash=hash_token(code),
        invited_by=actor,
        expires_at=timezone.now() + settings.INVITATION_TTL,
    )
    invitation.groups.set(groups)
    # E-mail after commit, never inside the transaction.
    transaction.on_commit(lambda: _send_invitation_mail(invitation_id=invitation.pk, code=code))
    return invitation, code


@transaction.atomic
def invitation_create(
    *, actor: User, email: str, name: str, role: str = Role.EMPLOYEE, group_ids: list[int] | None = None
) -> tuple[Invitation, str]:
    groups = _groups_of_org(organization=actor.organization, group_ids=group_ids or [])
    _check_invitable(email=email)
    invitation, code = _invitation_create(actor=actor, email=email, name=name, role=role, groups=groups)
    audit_record(
        actor=actor,
        action="invitation.created",
        target_type="invitation",
        target_id=invitation.pk,
        organization_id=actor.organization_id,
        after={"email": invitation.email, "role": role},
    )
    return invitation, code


def invitation_activate(*, code: str, password: str, name: str = "", device_name: str = "") -> tuple[User, IssuedToken]:
    invalid = ValidationFailed(
        _("This code is not valid or has expired."), code="invalid_code", fields={"code": [_("Invalid or expired code.")]}
    )
    with transaction.atomic():
        # Locked: two activations racing on one code must not both succeed.
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organization")
            .filter(code_hash=hash_token(_normalize_code(code)))
            .first()
        )
        if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= timezone.now():
            raise invalid
        candidate = User(email=invitation.email, name=name or invitation.name, organization=invitation.organization)
        try:
            password_validation.validate_password(password, user=candidate)
        except DjangoValidationError as error:
            raise ValidationFailed(error.messages[0], fields={"password": error.messages})
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email,
                    password,
                    organization=invitation.organization,
                    name=(name or invitation.name).strip(),
                    role=invitation.role,
                )
        except IntegrityError:
            raise Conflict(_("A user with this e-mail address already exists."), code="email_in_use")
        Membership.objects.bulk_create([Membership(group=group, user=user) for group in invitation.groups.all()])
        invitation.accepted_at = timezone.now()
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
        issued = token_issue(user=user, device_name=device_name)
    return user, issued


@dataclass
class ImportRow:
    row: int
    email: str
    status: str  # "invited" | "invalid"
    errors: dict[str, list[str]]
    invitation_id: int | None = None


def users_import(*, actor: User, csv_text: str) -> list[ImportRow]:
    """Invite every staff member in a CSV (email,name,role,groups), or nobody.

    `groups` holds group names separated by ';'. Every row is validated and
    reported; if any row is invalid nothing is created (ValidationFailed with the report).
    """
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    required = {"email", "name"}
    header = {name.strip().lower() for name in (reader.fieldnames or [])}
    if not required <= header:
        raise ValidationFailed(
            _("The CSV needs the columns email, name, role, groups."),
            fields={"file": [_("Missing columns: %(cols)s") % {"cols": ", ".join(sorted(required - header))}]},
        )

    groups_by_name = {group.name.lower(): group for group in Group.objects.filter(organization=actor.organization)}
    existing = {email.lower() for email in User.objects.values_list("email", flat=True)}
    seen: set[str] = set()
    rows: list[tuple[ImportRow, str, str, list[Group]]] = []
    for number, raw in enumerate(reader, start=2):  # row 1 is the header
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        errors: dict[str, list[str]] = {}
        email = record.get("email", "").lower()
        name = record.get("name", "")
        role = (record.get("role") or Role.EMPLOYEE).lower()
        try:
            validate_email(email)
        except DjangoValidationError:
            errors.setdefault("email", []).append(_("Not a valid e-mail address."))
        if email in existing:
            errors.setdefault("email", []).append(_("A user with this e-mail address already exists."))
        if email in seen:
            errors.setdefault("email", []).append(_("This e-mail address appears twice in the file."))
        seen.add(email)
        if not name:
            errors.setdefault("name", []).append(_("A name is required."))
        if role not in Role.values:
            errors.setdefault("role", []).append(_("Role must be employee, leader or admin."))
        groups: list[Group] = []
        for group_name in filter(None, (part.strip() for part in record.get("groups", "").split(";"))):
            group = groups_by_name.get(group_name.lower())
            if group is None:
                errors.setdefault("groups", []).append(_("Unknown group: %(name)s") % {"name": group_name})
            else:
                groups.append(group)
        rows.append((ImportRow(row=number, email=email, status="invalid" if errors else "invited", errors=errors), name, role, groups))
        if len(rows) > IMPORT_MAX_ROWS:
            raise ValidationFailed(_("At most %(n)d rows per file.") % {"n": IMPORT_MAX_ROWS}, fields={"file": [_("Too many rows.")]})

    report = [row for row, *_ in rows]
    if not rows:
        raise ValidationFailed(_("The file has no rows."), fields={"file": [_("No rows.")]})
    if any(row.errors for row in report):
        raise ValidationFailed(
            _("Nothing was imported: %(n)d rows have errors.") % {"n": sum(1 for row in report if row.errors)},
            code="import_invalid",
            fields={"rows": [_import_row_dict(row) for row in report]},
        )
    with transaction.atomic():
        for row, name, role, groups in rows:
            invitation, _code = _invitation_create(actor=actor, email=row.email, name=name, role=role, groups=groups)
            row.invitation_id = invitation.pk
        audit_record(
            actor=actor,
            action="users.imported",
            target_type="organization",
            target_id=actor.organization_id,
            organization_id=actor.organization_id,
            after={"invited": [row.email for row in report]},
        )
    return report


def _import_row_dict(row: ImportRow) -> dict:
    return {"row": row.row, "email": row.email, "status": row.status, "errors": row.errors, "invitation_id": row.invitation_id}

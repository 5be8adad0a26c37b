"""Joining: an invitation by code (one, or a CSV of staff), and activating it into an account.

An invitation names an e-mail address (the code is e-mailed, after the commit, by a task) or
only an employee number (the code is shown to the admin who issued it, to hand over in person:
staff without e-mail, issue #22). Codes are stored only as hashes.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.authentication import hash_token
from accounts.emails import canonical_email, validate_canonical_email
from accounts.models import Group, Invitation, Membership, OutgoingEmail, Role, User
from accounts.services.auth import IssuedToken, token_issue
from accounts.services.groups import _groups_of_org
from accounts.services.mail import EmailKind, outgoing_email_queue
from server.api.exceptions import Conflict, NotAllowed, ValidationFailed

# Codes are typed on a phone: no 0/O/1/I/L. 12 characters of 31 symbols ≈ 59 bits.
INVITATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITATION_CODE_LENGTH = 12
IMPORT_MAX_ROWS = 5000


def new_code() -> str:
    return "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_CODE_LENGTH))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _check_invitable(*, actor: User, email: str, employee_number: str) -> None:
    if email and User.objects.filter(email=email).exists():
        raise Conflict(_("A user with this e-mail address already exists."), code="email_in_use", fields={"email": [_("Already in use.")]})
    if employee_number and User.objects.filter(organization_id=actor.organization_id, employee_number=employee_number).exists():
        raise Conflict(
            _("A colleague with this employee number already exists."),
            code="employee_number_in_use",
            fields={"employee_number": [_("Already in use.")]},
        )


def _invitation_email(invitation: Invitation) -> OutgoingEmail:
    return OutgoingEmail(organization_id=invitation.organization_id, kind=EmailKind.INVITATION, to=invitation.email, invitation=invitation)


def _invitations_create(*, actor: User, people: list[tuple[str, str, str, str, list[Group]]]) -> list[tuple[Invitation, str]]:
    """Invitations for (email, employee_number, name, role, groups), in bulk: a 5,000-row import
    is a handful of statements, and the e-mails go after the commit."""
    expires_at = timezone.now() + settings.INVITATION_TTL
    codes = [new_code() for _ in people]
    invitations = Invitation.objects.bulk_create(
        [
            Invitation(
                organization_id=actor.organization_id,
                email=canonical_email(email),
                employee_number=employee_number.strip(),
                name=name.strip(),
                role=role,
                code_hash=hash_token(code),
                invited_by=actor,
                expires_at=expires_at,
            )
            for (email, employee_number, name, role, _groups), code in zip(people, codes, strict=True)
        ]
    )
    through = Invitation.groups.through
    through.objects.bulk_create(
        [
            through(invitation_id=invitation.pk, group_id=group.pk)
            for invitation, (*_fields, groups) in zip(invitations, people, strict=True)
            for group in groups
        ]
    )
    mailed = [(invitation, code) for invitation, code in zip(invitations, codes, strict=True) if invitation.email]
    outgoing_email_queue(emails=[_invitation_email(invitation) for invitation, _code in mailed], codes=[code for _inv, code in mailed])
    return list(zip(invitations, codes, strict=True))


@transaction.atomic
def invitation_create(
    *,
    actor: User,
    email: str = "",
    employee_number: str = "",
    name: str,
    role: str = Role.EMPLOYEE,
    group_ids: list[int] | None = None,
) -> tuple[Invitation, str]:
    if not actor.is_org_admin:
        raise NotAllowed()
    email, employee_number = canonical_email(email), employee_number.strip()
    if email:
        try:
            validate_canonical_email(email)
        except DjangoValidationError as error:
            raise ValidationFailed(error.messages[0], fields={"email": error.messages})
    if not email and not employee_number:
        message = _("Give an e-mail address or an employee number.")
        raise ValidationFailed(message, fields={"email": [message], "employee_number": [message]})
    groups = _groups_of_org(organization=actor.organization, group_ids=group_ids or [])
    _check_invitable(actor=actor, email=email, employee_number=employee_number)
    [(invitation, code)] = _invitations_create(actor=actor, people=[(email, employee_number, name, role, groups)])
    audit_record(
        actor=actor,
        action="invitation.created",
        target_type="invitation",
        target_id=invitation.pk,
        organization_id=actor.organization_id,
        after={"email": invitation.email, "employee_number": invitation.employee_number, "role": role},
    )
    return invitation, code


def invitation_status(invitation: Invitation) -> str:
    if invitation.accepted_at is not None:
        return "accepted"
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.expires_at <= timezone.now():
        return "expired"
    return "pending"


@transaction.atomic
def invitation_resend(*, actor: User, invitation: Invitation) -> tuple[Invitation, str]:
    """A new code (the old one stops working) valid for a new period, e-mailed again if there
    is an address; shown to the admin either way, like at creation."""
    if not actor.is_org_admin:
        raise NotAllowed()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise Conflict(_("This invitation was accepted or revoked."), code="invitation_closed")
    code = new_code()
    invitation.code_hash = hash_token(code)
    invitation.expires_at = timezone.now() + settings.INVITATION_TTL
    invitation.save(update_fields=["code_hash", "expires_at"])
    if invitation.email:
        outgoing_email_queue(emails=[_invitation_email(invitation)], codes=[code])
    audit_record(
        actor=actor, action="invitation.resent", target_type="invitation", target_id=invitation.pk, organization_id=actor.organization_id
    )
    return invitation, code


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> None:
    """The code stops working; idempotent (revoking a revoked invitation changes nothing)."""
    if not actor.is_org_admin:
        raise NotAllowed()
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted."), code="invitation_closed")
    if invitation.revoked_at is not None:
        return
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    audit_record(
        actor=actor, action="invitation.revoked", target_type="invitation", target_id=invitation.pk, organization_id=actor.organization_id
    )


def invitation_activate(*, code: str, password: str, name: str = "", device_name: str = "") -> tuple[User, IssuedToken]:
    invalid = ValidationFailed(
        _("This code is not valid or has expired."), code="invalid_code", fields={"code": [_("Invalid or expired code.")]}
    )
    with transaction.atomic():
        # Locked: two activations racing on one code must not both succeed.
        invitation = (
            Invitation.objects.select_for_update().select_related("organization").filter(code_hash=hash_token(normalize_code(code))).first()
        )
        if invitation is None or invitation_status(invitation) != "pending":
            raise invalid
        candidate = User(
            email=invitation.email or None,
            employee_number=invitation.employee_number,
            name=name or invitation.name,
            organization=invitation.organization,
        )
        try:
            password_validation.validate_password(password, user=candidate)
        except DjangoValidationError as error:
            raise ValidationFailed(error.messages[0], fields={"password": error.messages})
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    invitation.email or None,
                    password,
                    organization=invitation.organization,
                    employee_number=invitation.employee_number,
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
    employee_number: str = ""
    # Only for a row without an e-mail address: the code to hand over, shown this once.
    code: str | None = None


@dataclass
class _Parsed:
    report: ImportRow
    name: str
    role: str
    groups: list[Group]


def _parse_row(number: int, record: dict[str, str], groups_by_name: dict[str, Group]) -> _Parsed:
    errors: dict[str, list[str]] = {}
    email = canonical_email(record.get("email", ""))
    employee_number = record.get("employee_number", "")
    name = record.get("name", "")
    role = (record.get("role") or Role.EMPLOYEE).lower()
    if email:
        try:
            validate_canonical_email(email)
        except DjangoValidationError:
            errors.setdefault("email", []).append(_("Not a valid e-mail address."))
    elif not employee_number:
        errors.setdefault("email", []).append(_("Give an e-mail address or an employee number."))
    if len(employee_number) > 32:
        errors.setdefault("employee_number", []).append(_("At most 32 characters."))
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
    report = ImportRow(row=number, email=email, employee_number=employee_number, status="invited", errors=errors)
    return _Parsed(report=report, name=name, role=role, groups=groups)


def _mark_duplicates(rows: list[_Parsed], *, actor: User) -> None:
    emails = {row.report.email for row in rows if row.report.email}
    numbers = {row.report.employee_number for row in rows if row.report.employee_number}
    # Only the addresses of the file: an import never reads the whole user table.
    existing_emails = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    existing_numbers = set(
        User.objects.filter(organization_id=actor.organization_id, employee_number__in=numbers).values_list("employee_number", flat=True)
    )
    seen_emails: set[str] = set()
    seen_numbers: set[str] = set()
    for row in rows:
        errors, email, number = row.report.errors, row.report.email, row.report.employee_number
        if email in existing_emails:
            errors.setdefault("email", []).append(_("A user with this e-mail address already exists."))
        if email and email in seen_emails:
            errors.setdefault("email", []).append(_("This e-mail address appears twice in the file."))
        if number in existing_numbers:
            errors.setdefault("employee_number", []).append(_("A colleague with this employee number already exists."))
        if number and number in seen_numbers:
            errors.setdefault("employee_number", []).append(_("This employee number appears twice in the file."))
        seen_emails.add(email)
        seen_numbers.add(number)
        if errors:
            row.report.status = "invalid"


def users_import(*, actor: User, csv_text: str) -> list[ImportRow]:
    """Invite every staff member in a CSV (email,name,role,groups[,employee_number]), or nobody.

    `groups` holds group names separated by ';'. Every row is validated and reported; if any
    row is invalid nothing is created (ValidationFailed with the report). The invitations are
    written in bulk and the e-mails sent after the commit by tasks (accounts.services.mail).
    """
    if not actor.is_org_admin:
        raise NotAllowed()
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = {name.strip().lower() for name in (reader.fieldnames or [])}
    if "name" not in header or not ({"email", "employee_number"} & header):
        missing = sorted(({"name"} - header) | ({"email"} if not {"email", "employee_number"} & header else set()))
        raise ValidationFailed(
            _("The CSV needs the columns email, name, role, groups."),
            fields={"file": [_("Missing columns: %(cols)s") % {"cols": ", ".join(missing)}]},
        )

    groups_by_name = {group.name.lower(): group for group in Group.objects.filter(organization=actor.organization)}
    rows: list[_Parsed] = []
    for number, raw in enumerate(reader, start=2):  # row 1 is the header
        record = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        rows.append(_parse_row(number, record, groups_by_name))
        if len(rows) > IMPORT_MAX_ROWS:
            raise ValidationFailed(_("At most %(n)d rows per file.") % {"n": IMPORT_MAX_ROWS}, fields={"file": [_("Too many rows.")]})
    if not rows:
        raise ValidationFailed(_("The file has no rows."), fields={"file": [_("No rows.")]})
    _mark_duplicates(rows, actor=actor)
    report = [row.report for row in rows]
    if any(row.errors for row in report):
        raise ValidationFailed(
            _("Nothing was imported: %(n)d rows have errors.") % {"n": sum(1 for row in report if row.errors)},
            code="import_invalid",
            fields={"rows": [_import_row_dict(row) for row in report]},
        )
    with transaction.atomic():
        created = _invitations_create(
            actor=actor, people=[(row.report.email, row.report.employee_number, row.name, row.role, row.groups) for row in rows]
        )
        for row, (invitation, code) in zip(report, created, strict=True):
            row.invitation_id = invitation.pk
            if not invitation.email:
                row.code = code
        audit_record(
            actor=actor,
            action="users.imported",
            target_type="organization",
            target_id=actor.organization_id,
            organization_id=actor.organization_id,
            after={"invited": [row.email or f"#{row.employee_number}" for row in report]},
        )
    return report


def _import_row_dict(row: ImportRow) -> dict:
    return {
        "row": row.row,
        "email": row.email,
        "employee_number": row.employee_number,
        "status": row.status,
        "errors": row.errors,
        "invitation_id": row.invitation_id,
        "code": row.code,
    }

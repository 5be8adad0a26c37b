"""Writes about organisations and people. One function per use case."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, override

from accounts import signals
from accounts.audit import audit_record
from accounts.authentication import hash_token, new_raw_token
from accounts.models import (
    AuthToken,
    Group,
    GroupKind,
    Invitation,
    Membership,
    MembershipRole,
    Organization,
    Role,
    User,
    validate_timezone,
)
from server.api import throttling
from server.api.exceptions import Conflict, NotAllowed, NotFound, Throttled, ValidationFailed

# Codes are typed on a phone: no 0/O/1/I/L. 12 characters of 31 symbols ≈ 59 bits.
INVITATION_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
INVITATION_CODE_LENGTH = 12
IMPORT_MAX_ROWS = 5000


@dataclass(frozen=True)
class IssuedToken:
    raw: str
    token: AuthToken


# --- Organisations ------------------------------------------------------------------


@transaction.atomic
def organization_create(
    *,
    name: str,
    timezone_name: str,
    admin_email: str,
    admin_password: str,
    admin_name: str = "",
    default_language: str = "nl",
) -> tuple[Organization, User]:
    try:
        validate_timezone(timezone_name)
    except DjangoValidationError:
        raise ValidationFailed(_("Unknown time zone."), fields={"timezone": [_("Unknown time zone.")]})
    base_slug = slugify(name)[:70] or "org"
    slug, suffix = base_slug, 1
    while Organization.objects.filter(slug=slug).exists():
        suffix += 1
        slug = f"{base_slug}-{suffix}"
    organization = Organization.objects.create(name=name, slug=slug, timezone=timezone_name, default_language=default_language)
    if User.objects.filter(email__iexact=admin_email).exists():
        raise Conflict(_("A user with this e-mail address already exists."), fields={"email": [_("Already in use.")]})
    admin = User.objects.create_user(
        admin_email,
        admin_password,
        organization=organization,
        name=admin_name or admin_email.split("@")[0],
        role=Role.ADMIN,
    )
    return organization, admin


# --- Tokens and login -------------------------------------------------------------------


def token_issue(*, user: User, device_name: str = "") -> IssuedToken:
    raw = new_raw_token()
    token = AuthToken.objects.create(
        user=user,
        key_hash=hash_token(raw),
        device_name=device_name[:100],
        expires_at=timezone.now() + settings.AUTH_TOKEN_TTL,
    )
    return IssuedToken(raw=raw, token=token)


def _login_account_key(email: str) -> str:
    return "login-account:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def login_attempt_record(*, email: str) -> None:
    """Count one login attempt on the account; Throttled past the limit (the API and the admin site).

    Every attempt is counted per account in the shared cache *before* the password
    is checked, with one atomic increment: parallel guesses cannot all pass a check
    made before any of them was recorded. Past the limit the account answers 429
    until the window ends, right password or not; a successful login resets it.
    """
    wait = throttling.hit(_login_account_key(email), limit=settings.LOGIN_FAILURE_LIMIT, window=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    if wait is not None:
        raise Throttled(wait_seconds=wait, message=_("Too many failed logins. Try again later."))


def login_attempts_clear(*, email: str) -> None:
    throttling.clear(_login_account_key(email), window=settings.LOGIN_FAILURE_WINDOW_SECONDS)


def login(*, email: str, password: str, device_name: str = "") -> IssuedToken:
    """A new device session, or one error for every kind of wrong credentials (login_attempt_record)."""
    login_attempt_record(email=email)

    user = User.objects.select_related("organization").filter(email__iexact=email.strip()).first()
    if user is None:
        # Hash anyway: an unknown e-mail must cost as much time as a known one.
        User().set_password(password)
        valid = False
    else:
        valid = user.check_password(password)
    if user is None or not valid or not user.is_active:
        raise NotAuthenticated()
    login_attempts_clear(email=email)
    return token_issue(user=user, device_name=device_name)


class NotAuthenticated(ValidationFailed):
    status_code = 401
    default_code = "invalid_credentials"
    default_message = gettext_lazy("E-mail address or password is wrong.")

    def __init__(self) -> None:
        super().__init__(_("E-mail address or password is wrong."))


def logout(*, token: AuthToken) -> None:
    user_id, token_id = token.user_id, token.pk
    with transaction.atomic():
        AuthToken.objects.filter(pk=token_id).delete()
        transaction.on_commit(lambda: signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user_id, token_ids=[token_id]))


def tokens_purge_expired(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    expired = list(AuthToken.objects.filter(expires_at__lte=now).values_list("pk", "user_id")[:10_000])
    if not expired:
        return 0
    AuthToken.objects.filter(pk__in=[pk for pk, _ in expired]).delete()
    by_user: dict[int, list[int]] = {}
    for pk, user_id in expired:
        by_user.setdefault(user_id, []).append(pk)
    for user_id, token_ids in by_user.items():
        signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user_id, token_ids=token_ids)
    return len(expired)


# --- Invitations ------------------------------------------------------------------------


def _new_invitation_code() -> str:
    return "".join(secrets.choice(INVITATION_ALPHABET) for _ in range(INVITATION_CODE_LENGTH))


def _normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _groups_of_org(*, organization: Organization, group_ids: list[int], field: str = "group_ids") -> list[Group]:
    unique_ids = list(dict.fromkeys(group_ids))
    groups = list(Group.objects.filter(organization=organization, pk__in=unique_ids))
    if len(groups) != len(unique_ids):
        found = {group.pk for group in groups}
        missing = [gid for gid in unique_ids if gid not in found]
        raise ValidationFailed(_("Unknown group."), fields={field: [_("Unknown group: %(ids)s") % {"ids": ", ".join(map(str, missing))}]})
    return groups


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


# --- CSV import -----------------------------------------------------------------------------


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


# --- People and groups --------------------------------------------------------------------


@transaction.atomic
def me_update(*, user: User, name: str | None = None, language: str | None = None, timezone_name: str | None = None) -> User:
    fields = []
    if name is not None:
        user.name = name.strip()
        fields.append("name")
    if language is not None:
        user.language = language
        fields.append("language")
    if timezone_name is not None:
        user.timezone = timezone_name
        fields.append("timezone")
    if fields:
        user.save(update_fields=fields)
    return user


def _memberships_replace(*, user: User, groups: list[Group]) -> tuple[set[int], set[int]]:
    current = set(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    wanted = {group.pk for group in groups}
    Membership.objects.filter(user=user, group_id__in=current - wanted).delete()
    Membership.objects.bulk_create([Membership(user=user, group_id=gid) for gid in wanted - current])
    return wanted - current, current - wanted


def _send_membership_changes(user_id: int, joined: set[int], left: set[int]) -> None:
    for group_id in joined:
        signals.membership_changed.send(sender=Membership, user_id=user_id, group_id=group_id, joined=True)
    for group_id in left:
        signals.membership_changed.send(sender=Membership, user_id=user_id, group_id=group_id, joined=False)


@transaction.atomic
def user_update(*, actor: User, user: User, role: str | None = None, group_ids: list[int] | None = None) -> User:
    if not actor.is_org_admin:
        raise NotAllowed()
    before = {"role": user.role, "group_ids": sorted(Membership.objects.filter(user=user).values_list("group_id", flat=True))}
    if role is not None and role != user.role:
        if user.pk == actor.pk and role != Role.ADMIN:
            raise ValidationFailed(_("You cannot take away your own admin role."), fields={"role": [_("Not allowed on yourself.")]})
        user.role = role
        user.save(update_fields=["role"])
    if group_ids is not None:
        groups = _groups_of_org(organization=actor.organization, group_ids=group_ids)
        joined, left = _memberships_replace(user=user, groups=groups)
        transaction.on_commit(lambda: _send_membership_changes(user.pk, joined, left))
    after = {"role": user.role, "group_ids": sorted(Membership.objects.filter(user=user).values_list("group_id", flat=True))}
    if before != after:
        audit_record(
            actor=actor,
            action="user.updated",
            target_type="user",
            target_id=user.pk,
            organization_id=actor.organization_id,
            before=before,
            after=after,
        )
    return user


def user_deactivate(*, actor: User, user: User) -> None:
    if not actor.is_org_admin:
        raise NotAllowed()
    if user.pk == actor.pk:
        raise ValidationFailed(_("You cannot deactivate yourself."), code="not_on_self")
    _deactivate(actor=actor, user=user)


def admin_site_user_changed(*, actor: User, user: User, deactivated: bool, groups_before: set[int]) -> None:
    """What the API's services do besides saving, for a person changed in the Django admin site.

    The admin site saves the row itself (its own audit entry lists the changed fields); a
    deactivation there must still end the person's sessions, close their sockets and forget
    their devices, and memberships changed there must reach their open sockets. `actor` is an
    organisation admin of `user`'s organisation or platform staff (the admin site checks).
    """
    if deactivated:
        _deactivate(actor=actor, user=user)
    groups_after = set(Membership.objects.filter(user=user).values_list("group_id", flat=True))
    if groups_after != groups_before:
        joined, left = groups_after - groups_before, groups_before - groups_after
        transaction.on_commit(lambda: _send_membership_changes(user.pk, joined, left))


def _deactivate(*, actor: User, user: User) -> None:
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            return
        user.is_active = False
        user.deactivated_at = timezone.now()
        user.save(update_fields=["is_active", "deactivated_at"])
        token_ids = list(AuthToken.objects.filter(user=user).values_list("pk", flat=True))
        AuthToken.objects.filter(user=user).delete()
        audit_record(actor=actor, action="user.deactivated", target_type="user", target_id=user.pk, organization_id=user.organization_id)

        def announce() -> None:
            signals.auth_tokens_revoked.send(sender=AuthToken, user_id=user.pk, token_ids=token_ids)
            signals.user_deactivated.send(sender=User, user=user)

        transaction.on_commit(announce)


@transaction.atomic
def group_create(*, actor: User, name: str, kind: str = GroupKind.TEAM, allow_member_posts: bool = True) -> Group:
    if not actor.is_org_admin:
        raise NotAllowed()
    if Group.objects.filter(organization=actor.organization, name__iexact=name.strip()).exists():
        raise Conflict(_("A group with this name already exists."), fields={"name": [_("Already in use.")]})
    group = Group.objects.create(organization=actor.organization, name=name.strip(), kind=kind, allow_member_posts=allow_member_posts)
    audit_record(
        actor=actor,
        action="group.created",
        target_type="group",
        target_id=group.pk,
        organization_id=actor.organization_id,
        after={"name": group.name, "kind": kind},
    )
    return group


@transaction.atomic
def group_update(
    *, actor: User, group: Group, name: str | None = None, kind: str | None = None, allow_member_posts: bool | None = None
) -> Group:
    if not actor.is_org_admin:
        raise NotAllowed()
    before = {"name": group.name, "kind": group.kind, "allow_member_posts": group.allow_member_posts}
    renamed = name is not None and name.strip().lower() != group.name.lower()
    if renamed and Group.objects.filter(organization=actor.organization, name__iexact=name.strip()).exclude(pk=group.pk).exists():
        raise Conflict(_("A group with this name already exists."), fields={"name": [_("Already in use.")]})
    if name is not None:
        group.name = name.strip()
    if kind is not None:
        group.kind = kind
    if allow_member_posts is not None:
        group.allow_member_posts = allow_member_posts
    group.save()
    after = {"name": group.name, "kind": group.kind, "allow_member_posts": group.allow_member_posts}
    if before != after:
        audit_record(
            actor=actor,
            action="group.updated",
            target_type="group",
            target_id=group.pk,
            organization_id=actor.organization_id,
            before=before,
            after=after,
        )
    return group


@transaction.atomic
def membership_add(*, actor: User, group: Group, user_id: int, role: str = MembershipRole.MEMBER) -> Membership:
    if not actor.is_org_admin:
        raise NotAllowed()
    member = User.objects.filter(pk=user_id, organization_id=actor.organization_id, is_active=True).first()
    if member is None:
        raise ValidationFailed(_("Unknown user."), fields={"user_id": [_("No such colleague.")]})
    membership, created = Membership.objects.get_or_create(group=group, user=member, defaults={"role": role})
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if created:
        transaction.on_commit(lambda: _send_membership_changes(member.pk, {group.pk}, set()))
    audit_record(
        actor=actor,
        action="membership.added",
        target_type="group",
        target_id=group.pk,
        organization_id=actor.organization_id,
        after={"user_id": member.pk, "role": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: User, group: Group, user_id: int) -> None:
    if not actor.is_org_admin:
        raise NotAllowed()
    deleted, _rows = Membership.objects.filter(group=group, user_id=user_id, user__organization_id=actor.organization_id).delete()
    if not deleted:
        raise NotFound()
    transaction.on_commit(lambda: _send_membership_changes(user_id, set(), {group.pk}))
    audit_record(
        actor=actor,
        action="membership.removed",
        target_type="group",
        target_id=group.pk,
        organization_id=actor.organization_id,
        before={"user_id": user_id},
    )

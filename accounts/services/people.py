"""People: their own profile, an admin changing their role and groups, deactivation."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signals
from accounts.audit import audit_record
from accounts.models import AuthToken, Group, Membership, Role, User
from accounts.services.groups import _groups_of_org, _send_membership_changes
from server.api.exceptions import Conflict, NotAllowed, ValidationFailed


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


@transaction.atomic
def user_reactivate(*, actor: User, user: User) -> User:
    """A deactivated colleague back in: signs in again with their password (or a login code);
    their groups were kept. Never an erased person. Idempotent."""
    if not actor.is_org_admin:
        raise NotAllowed()
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.erased_at is not None:
        raise Conflict(_("This person's data was erased; invite them again instead."), code="erased")
    if user.is_active:
        return user
    user.is_active = True
    user.deactivated_at = None
    user.save(update_fields=["is_active", "deactivated_at"])
    audit_record(actor=actor, action="user.reactivated", target_type="user", target_id=user.pk, organization_id=user.organization_id)
    return user


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

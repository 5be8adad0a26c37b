"""Groups and their members (organisation admins)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import signals
from accounts.audit import audit_record
from accounts.models import Group, GroupKind, Membership, MembershipRole, Organization, User
from server.api.exceptions import Conflict, NotAllowed, NotFound, ValidationFailed


def _groups_of_org(*, organization: Organization, group_ids: list[int], field: str = "group_ids") -> list[Group]:
    unique_ids = list(dict.fromkeys(group_ids))
    groups = list(Group.objects.filter(organization=organization, pk__in=unique_ids, archived_at__isnull=True))
    if len(groups) != len(unique_ids):
        found = {group.pk for group in groups}
        missing = [gid for gid in unique_ids if gid not in found]
        raise ValidationFailed(_("Unknown group."), fields={field: [_("Unknown group: %(ids)s") % {"ids": ", ".join(map(str, missing))}]})
    return groups


def _send_membership_changes(user_id: int, joined: set[int], left: set[int]) -> None:
    for group_id in joined:
        signals.membership_changed.send(sender=Membership, user_id=user_id, group_id=group_id, joined=True)
    for group_id in left:
        signals.membership_changed.send(sender=Membership, user_id=user_id, group_id=group_id, joined=False)


@transaction.atomic
def group_create(*, actor: User, name: str, kind: str = GroupKind.TEAM, allow_member_posts: bool = True) -> Group:
    if not actor.is_org_admin:
        raise NotAllowed()
    if Group.objects.filter(organization=actor.organization, name__iexact=name.strip(), archived_at__isnull=True).exists():
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
    same_name = Group.objects.filter(organization=actor.organization, name__iexact=(name or "").strip(), archived_at__isnull=True)
    if renamed and same_name.exclude(pk=group.pk).exists():
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


def _may_manage_members(actor: User, group: Group) -> bool:
    # Admins, and the leaders who manage this group (issue #22).
    if actor.is_org_admin:
        return True
    return Membership.objects.filter(group=group, user=actor, role=MembershipRole.MANAGER).exists()


@transaction.atomic
def group_archive(*, actor: User, group: Group) -> None:
    """`DELETE /groups/{id}`: posts stay (and keep naming the group), memberships go, the group
    leaves every list; idempotent."""
    if not actor.is_org_admin:
        raise NotAllowed()
    group = Group.objects.select_for_update().get(pk=group.pk)
    if group.archived_at is not None:
        return
    group.archived_at = timezone.now()
    group.save(update_fields=["archived_at"])
    members = list(Membership.objects.filter(group=group).values_list("user_id", flat=True))
    Membership.objects.filter(group=group).delete()

    def announce() -> None:
        for user_id in members:
            _send_membership_changes(user_id, set(), {group.pk})

    transaction.on_commit(announce)
    audit_record(
        actor=actor,
        action="group.archived",
        target_type="group",
        target_id=group.pk,
        organization_id=actor.organization_id,
        before={"name": group.name, "members": len(members)},
    )


@transaction.atomic
def membership_add(*, actor: User, group: Group, user_id: int, role: str = MembershipRole.MEMBER) -> Membership:
    if not _may_manage_members(actor, group):
        raise NotAllowed()
    if role == MembershipRole.MANAGER and not actor.is_org_admin:
        raise NotAllowed(_("Only admins make someone a manager of a group."))
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
    if not _may_manage_members(actor, group):
        raise NotAllowed()
    target = Membership.objects.filter(group=group, user_id=user_id).values_list("role", flat=True).first()
    if target == MembershipRole.MANAGER and not actor.is_org_admin:
        raise NotAllowed(_("Only admins remove a manager from a group."))
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

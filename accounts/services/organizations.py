"""A new organisation with its first admin (the platform's command and the demo seed)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from accounts.emails import canonical_email
from accounts.models import Organization, Role, User, validate_timezone
from server.api.exceptions import Conflict, ValidationFailed


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
    if User.objects.filter(email=canonical_email(admin_email)).exists():
        raise Conflict(_("A user with this e-mail address already exists."), fields={"email": [_("Already in use.")]})
    admin = User.objects.create_user(
        admin_email,
        admin_password,
        organization=organization,
        name=admin_name or admin_email.split("@")[0],
        role=Role.ADMIN,
    )
    return organization, admin

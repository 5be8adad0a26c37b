from __future__ import annotations

import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext_lazy as _

from accounts.emails import canonical_email


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class Language(models.TextChoices):
    EN = "en", "English"
    NL = "nl", "Nederlands"


class Organization(models.Model):
    """A tenant. Nothing of one organisation is ever visible to another."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    slug = models.SlugField(max_length=80, unique=True, verbose_name=_("slug"))
    timezone = models.CharField(max_length=64, default="Europe/Amsterdam", validators=[validate_timezone], verbose_name=_("time zone"))
    default_language = models.CharField(max_length=2, choices=Language.choices, default=Language.NL, verbose_name=_("default language"))
    # Feature switches. Named here so that later features need no migration of this table.
    org_wide_posting_open = models.BooleanField(
        default=False,
        help_text=_("Everyone may post to the whole organisation."),
        verbose_name=_("everyone posts to the whole organisation"),
    )
    leaderboard_enabled = models.BooleanField(default=False, verbose_name=_("leaderboard on"))
    kudos_value_required = models.BooleanField(default=False, verbose_name=_("kudos need a value"))
    kudos_monthly_allowance = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Kudos a person may give per month; empty = unlimited."), verbose_name=_("kudos per month")
    )
    auto_hide_report_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("Hide content after this many distinct reports; empty = never."),
        verbose_name=_("hide after reports"),
    )
    erasure_keeps_content = models.BooleanField(
        default=True,
        help_text=_("On erasure, keep posts and comments anonymised instead of removing them."),
        verbose_name=_("keep content on erasure"),
    )
    # At least 3: below that, a result set or its complement points at one or two people.
    survey_min_group_size = models.PositiveSmallIntegerField(
        default=5,
        validators=[MinValueValidator(3)],
        help_text=_("Survey results built from fewer responses than this are not shown (at least 3)."),
        verbose_name=_("survey minimum group size"),
    )
    voice_first_response_hours = models.PositiveIntegerField(
        default=72,
        help_text=_("An open signal reminds its owner after this many hours, and goes to the admins after twice as many."),
        verbose_name=_("first response to a signal within (hours)"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.CheckConstraint(condition=models.Q(survey_min_group_size__gte=3), name="organization_survey_min_group_size_3"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Role(models.TextChoices):
    EMPLOYEE = "employee", _("Employee")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", _("Admin")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str | None, password: str | None = None, **fields) -> User:
        if not email and not fields.get("employee_number"):
            raise ValueError("Users need an e-mail address or an employee number.")
        user = self.model(email=canonical_email(email) or None, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str | None) -> User:
        # Django's authenticate() (the admin site's login) looks people up here: the same exact
        # match on the canonical form as the API's login.
        return self.get(email=canonical_email(username))

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    # Platform staff (superusers) may belong to no organisation; everyone else must.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="users", null=True, blank=True, verbose_name=_("organisation")
    )
    # Stored in canonical form (accounts.emails, issue #25), compared exactly; the functional
    # constraint below is the older guard against case variants and stays.
    # Empty for staff without e-mail (shop floor, care): they sign in by employee number.
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True, verbose_name=_("e-mail address"))
    employee_number = models.CharField(
        max_length=32,
        blank=True,
        help_text=_("Signs in with this and the organisation's code when there is no e-mail address."),
        verbose_name=_("employee number"),
    )
    name = models.CharField(max_length=150, verbose_name=_("name"))
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE, verbose_name=_("role"))
    language = models.CharField(
        max_length=2, choices=Language.choices, blank=True, help_text=_("Empty = the organisation's language."), verbose_name=_("language")
    )
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text=_("Empty = the organisation's time zone."),
        verbose_name=_("time zone"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("active"))
    # The deployment's operators (with is_superuser). Organisation admins use the admin site by their
    # role (server/admin_site.py), not by this flag.
    is_staff = models.BooleanField(
        default=False, help_text=_("An operator of the deployment, not of an organisation."), verbose_name=_("platform staff")
    )
    date_joined = models.DateTimeField(default=tz_now, verbose_name=_("joined"))
    deactivated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("deactivated"))
    # Set when a personal-data erasure begins (moderation.privacy): such a person is never reactivated.
    erased_at = models.DateTimeField(null=True, blank=True, verbose_name=_("erased"))
    # Set by moderation (which keeps the history); read by feed and recognition,
    # which may not import moderation: a muted user cannot post, comment or give kudos.
    muted_until = models.DateTimeField(null=True, blank=True, verbose_name=_("muted until"))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
            models.UniqueConstraint(
                "organization", "employee_number", condition=~models.Q(employee_number=""), name="user_employee_number_unique_per_org"
            ),
            models.CheckConstraint(
                condition=models.Q(is_superuser=True) | models.Q(organization__isnull=False),
                name="user_has_organization",
            ),
        ]
        indexes = [models.Index(fields=["organization", "name", "id"], name="user_directory_idx")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email or self.employee_number}>"

    def clean(self) -> None:
        super().clean()
        self.email = canonical_email(self.email) or None

    def save(self, *args, **kwargs) -> None:
        # Whichever path writes the row (a service, the admin site, a factory), the address is
        # stored canonical: lookups compare exactly and a non-canonical row would be unreachable.
        # No address is NULL, not "": staff without e-mail are many, and NULLs do not collide.
        self.email = canonical_email(self.email) or None
        self.employee_number = (self.employee_number or "").strip()
        super().save(*args, **kwargs)

    # What the admin site greets a person with (Django asks for these two).
    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name

    @property
    def is_leader_or_admin(self) -> bool:
        return self.role in (Role.LEADER, Role.ADMIN)

    @property
    def is_org_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_muted(self) -> bool:
        return self.muted_until is not None and self.muted_until > tz_now()

    @property
    def effective_language(self) -> str:
        if self.language:
            return self.language
        return self.organization.default_language if self.organization_id else settings.LANGUAGE_CODE

    @property
    def effective_timezone(self) -> str:
        if self.timezone:
            return self.timezone
        return self.organization.timezone if self.organization_id else "UTC"


class GroupKind(models.TextChoices):
    TEAM = "team", _("Team")
    LOCATION = "location", _("Location")
    DEPARTMENT = "department", _("Department")
    INTEREST = "interest", _("Interest")


class Group(models.Model):
    """A team, location, department or interest group: the audiences of posts."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="groups", verbose_name=_("organisation"))
    name = models.CharField(max_length=150, verbose_name=_("name"))
    kind = models.CharField(max_length=16, choices=GroupKind.choices, default=GroupKind.TEAM, verbose_name=_("kind"))
    allow_member_posts = models.BooleanField(default=True, verbose_name=_("members may post"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    # Deleting a group archives it: its posts stay (and keep naming it), its memberships go.
    archived_at = models.DateTimeField(null=True, blank=True, verbose_name=_("archived"))

    class Meta:
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        # An archived group's name is free for a new group.
        constraints = [
            models.UniqueConstraint(
                "organization", Lower("name"), condition=models.Q(archived_at__isnull=True), name="group_name_unique_per_org"
            )
        ]
        indexes = [models.Index(fields=["organization", "name", "id"], name="group_directory_idx")]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    MEMBER = "member", _("Member")
    MANAGER = "manager", _("Manager")


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("group"))
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person"))
    role = models.CharField(max_length=16, choices=MembershipRole.choices, default=MembershipRole.MEMBER, verbose_name=_("role"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="membership_unique")]
        # The feed resolves "my groups" by user on every request.
        indexes = [models.Index(fields=["user", "group"], name="membership_by_user_idx")]

    def __str__(self) -> str:
        return str(self.group)


class AuthToken(models.Model):
    """One device session. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    device_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("device session")
        verbose_name_plural = _("device sessions")
        indexes = [models.Index(fields=["expires_at"], name="authtoken_expiry_idx")]

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= tz_now()


class Invitation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("organisation"))
    # Empty for a code handed over in person (staff without e-mail): then employee_number is set.
    email = models.EmailField(max_length=254, blank=True, verbose_name=_("e-mail address"))
    employee_number = models.CharField(max_length=32, blank=True, verbose_name=_("employee number"))
    name = models.CharField(max_length=150, verbose_name=_("name"))
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE, verbose_name=_("role"))
    groups = models.ManyToManyField(Group, blank=True, related_name="+", verbose_name=_("groups"))
    # Only a hash: a leaked database must not yield usable codes.
    code_hash = models.CharField(max_length=64, unique=True, verbose_name=_("code hash"))
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    expires_at = models.DateTimeField(verbose_name=_("expires"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted"))
    accepted_user = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("accepted by")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked"))

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["organization", "email"], name="invitation_by_email_idx")]

    def __str__(self) -> str:
        return self.email or self.employee_number

    def save(self, *args, **kwargs) -> None:
        self.email = canonical_email(self.email)
        super().save(*args, **kwargs)


class LoginCodePurpose(models.TextChoices):
    RESET = "reset", _("Password reset by e-mail")
    HANDOVER = "handover", _("Code handed over in person")


class LoginCode(models.Model):
    """A single-use code that sets a new password: e-mailed (a reset, 30 minutes) or shown to
    the admin or manager who issued it, for staff without e-mail (14 days)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_codes", verbose_name=_("person"))
    purpose = models.CharField(max_length=16, choices=LoginCodePurpose.choices, verbose_name=_("purpose"))
    # Only a hash, as for invitations.
    code_hash = models.CharField(max_length=64, unique=True, verbose_name=_("code hash"))
    issued_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("issued by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    expires_at = models.DateTimeField(verbose_name=_("expires"))
    used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("used"))

    class Meta:
        verbose_name = _("login code")
        verbose_name_plural = _("login codes")
        indexes = [models.Index(fields=["user", "purpose"], name="logincode_by_user_idx")]


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class OutgoingEmail(models.Model):
    """One e-mail we send (an invitation, a reset code): its delivery, attempt by attempt.

    Sent by accounts.tasks.outgoing_email_send_task after the commit that created it. The body
    is not stored: it carries a code, and codes exist only as hashes at rest; the task renders
    it from the row it names and the code it was handed.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    kind = models.CharField(max_length=32, verbose_name=_("kind"))
    to = models.EmailField(max_length=254, verbose_name=_("to"))
    invitation = models.ForeignKey(
        Invitation, on_delete=models.CASCADE, null=True, blank=True, related_name="emails", verbose_name=_("invitation")
    )
    login_code = models.ForeignKey(LoginCode, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("code"))
    status = models.CharField(max_length=16, choices=EmailStatus.choices, default=EmailStatus.QUEUED, verbose_name=_("status"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.CharField(max_length=300, blank=True, verbose_name=_("last error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent"))

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [models.Index(fields=["status", "created_at"], name="outgoingemail_status_idx")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.to}"

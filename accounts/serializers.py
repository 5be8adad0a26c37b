from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import avatars, capabilities
from accounts.models import Group, GroupKind, Language, MembershipRole, Organization, Role, User, validate_timezone
from server.api.fields import IdField, IdListField


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "timezone"]


class UserSummarySerializer(serializers.Serializer):
    """A person as shown on a card: author, recipient, mention."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    avatar = serializers.SerializerMethodField()

    @extend_schema_field({"type": "object", "nullable": True, "properties": {"thumbnail": {"type": "string"}, "large": {"type": "string"}}})
    def get_avatar(self, user: User) -> dict | None:
        # Stored by media, reached through the source it registered (accounts imports no higher
        # app); the selectors join it, so a missing avatar costs no query.
        return avatars.of(user)


class PersonRefSerializer(serializers.Serializer):
    """A person named in a record that outlives their profile (a kudos or award card, a moderator's
    decision, an audit entry): id and name only, since an avatar copied there would go stale."""

    id = serializers.IntegerField()
    name = serializers.CharField()


class GroupRefSerializer(serializers.Serializer):
    """A group wherever it is embedded (post, goal, key moment, reach, insights): one shape."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=GroupKind.choices)


class UserGroupSerializer(serializers.Serializer):
    """A group of mine (`/me`, a colleague's profile): the group's shape plus my role in it."""

    id = serializers.IntegerField(source="group.id")
    name = serializers.CharField(source="group.name")
    kind = serializers.ChoiceField(source="group.kind", choices=GroupKind.choices)
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class ColleagueSerializer(UserSummarySerializer):
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    email = serializers.SerializerMethodField()
    groups = UserGroupSerializer(source="memberships", many=True, read_only=True)

    @extend_schema_field(serializers.EmailField(allow_null=True))
    def get_email(self, user: User) -> str | None:
        # E-mail addresses may be private: only admins and the person see them.
        viewer = self.context["request"].user
        return user.email if viewer.pk == user.pk or viewer.is_org_admin else None


class OrganizationSettingsSerializer(serializers.Serializer):
    leaderboard_enabled = serializers.BooleanField()
    kudos_value_required = serializers.BooleanField()
    survey_min_group_size = serializers.IntegerField(allow_null=True, help_text="Null until the surveys app is installed.")
    voice_first_response_hours = serializers.IntegerField(allow_null=True, help_text="Null until the voice app is installed.")


class MyOrganizationSerializer(OrganizationSerializer):
    slug = serializers.CharField(read_only=True, help_text="The organisation's code, for a login by employee number.")
    settings = serializers.SerializerMethodField()

    class Meta(OrganizationSerializer.Meta):
        fields = ["id", "name", "timezone", "slug", "settings"]

    @extend_schema_field(OrganizationSettingsSerializer)
    def get_settings(self, organization: Organization) -> dict:
        return capabilities.organization_settings_of(organization)


class CapabilitiesSerializer(serializers.Serializer):
    post_org_wide = serializers.BooleanField()
    post_group_ids = serializers.ListField(child=serializers.IntegerField(), help_text="Groups I may post in.")
    announce = serializers.BooleanField(help_text="Announcements, acknowledgement, scheduled posts.")
    create_goals = serializers.BooleanField(help_text="Goals and key moments.")
    moderate = serializers.BooleanField()
    run_awards = serializers.BooleanField()
    create_surveys = serializers.BooleanField()


class MeSerializer(UserSummarySerializer):
    email = serializers.EmailField(read_only=True, allow_null=True)
    employee_number = serializers.CharField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    organization = MyOrganizationSerializer(read_only=True)
    groups = UserGroupSerializer(source="memberships", many=True, read_only=True)
    language = serializers.ChoiceField(
        choices=Language.choices, source="effective_language", read_only=True, help_text="Saved, else the organisation's language."
    )
    timezone = serializers.CharField(source="effective_timezone", read_only=True)
    muted_until = serializers.SerializerMethodField(help_text="Set while a moderator's mute lasts: no posts, comments or kudos.")
    capabilities = serializers.SerializerMethodField()
    kudos_left = serializers.SerializerMethodField(help_text="Kudos I may still give this month; null = unlimited.")

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_muted_until(self, user: User):
        return serializers.DateTimeField().to_representation(user.muted_until) if user.is_muted else None

    @extend_schema_field(CapabilitiesSerializer)
    def get_capabilities(self, user: User) -> dict:
        mine = [
            capabilities.MyGroup(membership.group_id, membership.role, membership.group.allow_member_posts)
            for membership in user.memberships.all()
        ]
        return capabilities.capabilities_of(user, mine)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_kudos_left(self, user: User) -> int | None:
        return capabilities.person_values_of(user)["kudos_left"]


class MeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])


class LoginSerializer(serializers.Serializer):
    # Plain text, not an e-mail field: any spelling is looked up in its canonical form and is
    # either the account or nobody (401); it is never a 400 that tells a spelling apart.
    email = serializers.CharField(max_length=254, required=False, default="", help_text="Or employee_number with organization.")
    employee_number = serializers.CharField(max_length=32, required=False, default="", help_text="For staff without e-mail.")
    organization_slug = serializers.CharField(
        max_length=80, required=False, default="", help_text="The organisation's code (`organization.slug` in /me), with employee_number."
    )
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict) -> dict:
        if not attrs["email"].strip() and not (attrs["employee_number"].strip() and attrs["organization_slug"].strip()):
            message = _("Give your e-mail address, or your employee number and your organisation's code.")
            raise serializers.ValidationError({"email": [message]})
        return attrs


class PasswordChangeSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=256, trim_whitespace=False)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)
    sign_out_other_devices = serializers.BooleanField(required=False, default=False)


class PasswordResetSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    email = serializers.CharField(
        max_length=254, required=False, default="", help_text="Required with an e-mailed code; a code handed over in person needs none."
    )
    code = serializers.CharField(max_length=64)
    new_password = serializers.CharField(max_length=256, trim_whitespace=False)
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class LoginCodeSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Shown once: hand it over in person. Valid 14 days, single use.")
    expires_at = serializers.DateTimeField()


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    user = MeSerializer()


class ActivateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=64)
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class GroupSerializer(serializers.ModelSerializer):
    is_member = serializers.BooleanField(read_only=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Group
        fields = ["id", "name", "kind", "allow_member_posts", "is_member", "member_count"]
        read_only_fields = ["id", "is_member", "member_count"]


class GroupWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    kind = serializers.ChoiceField(choices=GroupKind.choices, default=GroupKind.TEAM)
    allow_member_posts = serializers.BooleanField(default=True)


class GroupMemberSerializer(serializers.Serializer):
    user = UserSummarySerializer()
    role = serializers.ChoiceField(choices=MembershipRole.choices)
    joined_at = serializers.DateTimeField(source="created_at")


class MembershipWriteSerializer(serializers.Serializer):
    user_id = IdField()
    role = serializers.ChoiceField(choices=MembershipRole.choices, default=MembershipRole.MEMBER)


class UserAdminUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    group_ids = IdListField(required=False)


class InvitationCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(required=False, default="", help_text="Or employee_number for staff without e-mail.")
    employee_number = serializers.CharField(max_length=32, required=False, default="")
    name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EMPLOYEE)
    group_ids = IdListField(required=False, default=list, max_length=100)


class InvitationCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="Shown once; also e-mailed when the invitation has an address.")
    expires_at = serializers.DateTimeField()


INVITATION_STATUSES = ["pending", "accepted", "expired", "revoked"]


class InvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.CharField()
    employee_number = serializers.CharField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    status = serializers.ChoiceField(choices=INVITATION_STATUSES)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV with a header row: email,name,role,groups (group names separated by ';'), optionally employee_number "
        "(a row with an employee number and no e-mail gets a code to hand over, in the report)."
    )


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    email = serializers.CharField()
    employee_number = serializers.CharField()
    code = serializers.CharField(allow_null=True, help_text="Only for a row without e-mail: the code to hand over, shown once.")
    status = serializers.ChoiceField(choices=["invited", "invalid"])
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    invitation_id = serializers.IntegerField(allow_null=True)


class ImportReportSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    rows = ImportRowSerializer(many=True)

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import avatars
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


class MeSerializer(UserSummarySerializer):
    email = serializers.EmailField(read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    organization = OrganizationSerializer(read_only=True)
    groups = UserGroupSerializer(source="memberships", many=True, read_only=True)
    language = serializers.ChoiceField(
        choices=Language.choices, source="effective_language", read_only=True, help_text="Saved, else the organisation's language."
    )
    timezone = serializers.CharField(source="effective_timezone", read_only=True)


class MeUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=150, required=False, allow_blank=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])


class LoginSerializer(serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    device_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


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
    email = serializers.EmailField()
    name = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EMPLOYEE)
    group_ids = IdListField(required=False, default=list, max_length=100)


class InvitationCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header row: email,name,role,groups (group names separated by ';').")


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    email = serializers.CharField()
    status = serializers.ChoiceField(choices=["invited", "invalid"])
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    invitation_id = serializers.IntegerField(allow_null=True)


class ImportReportSerializer(serializers.Serializer):
    invited = serializers.IntegerField()
    rows = ImportRowSerializer(many=True)

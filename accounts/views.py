"""Thin views: authenticate, validate input, call one service or selector, serialize.

One APIView per operation (the style for every app of ours).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts import selectors, services
from accounts.serializers import (
    INVITATION_STATUSES,
    ActivateSerializer,
    ColleagueSerializer,
    GroupMemberSerializer,
    GroupSerializer,
    GroupWriteSerializer,
    ImportReportSerializer,
    ImportUploadSerializer,
    InvitationCreatedSerializer,
    InvitationCreateSerializer,
    InvitationSerializer,
    LoginCodeSerializer,
    LoginSerializer,
    MembershipWriteSerializer,
    MeSerializer,
    MeUpdateSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    TokenResponseSerializer,
    UserAdminUpdateSerializer,
)
from server.api.exceptions import ValidationFailed
from server.api.pagination import KeysetPagination
from server.api.permissions import IsOrgAdmin
from server.api.schema import ErrorSerializer
from server.api.throttling import ActivateIPThrottle, IPRateThrottle, LoginIPThrottle
from server.api.views import APIView


class PasswordResetIPThrottle(IPRateThrottle):
    scope = "password_reset_ip"


def _me(user):
    return selectors.access_user(actor=user, user_id=user.pk)


def paginated(view: APIView, queryset, serializer_class) -> Response:
    paginator = KeysetPagination()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    data = serializer_class(page, many=True, context={"request": view.request}).data
    return paginator.get_paginated_response(data)


def _token_response(issued, user, request, status_code=status.HTTP_200_OK) -> Response:
    body = {"token": issued.raw, "expires_at": issued.token.expires_at, "user": _me(user)}
    return Response(TokenResponseSerializer(body, context={"request": request}).data, status=status_code)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginIPThrottle]

    @extend_schema(
        request=LoginSerializer,
        responses={200: TokenResponseSerializer, 401: ErrorSerializer},
        operation_id="auth_login",
        tags=["auth"],
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.login(
            email=data.validated_data["email"],
            employee_number=data.validated_data["employee_number"],
            organization_slug=data.validated_data["organization_slug"],
            password=data.validated_data["password"],
            device_name=data.validated_data["device_name"],
        )
        return _token_response(issued, issued.token.user, request)


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None}, operation_id="auth_logout", tags=["auth"])
    def post(self, request):
        services.logout(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ActivateView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ActivateIPThrottle]

    @extend_schema(
        request=ActivateSerializer,
        responses={201: TokenResponseSerializer, 409: ErrorSerializer},
        operation_id="auth_activate",
        tags=["auth"],
    )
    def post(self, request):
        data = ActivateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, issued = services.invitation_activate(
            code=data.validated_data["code"],
            password=data.validated_data["password"],
            name=data.validated_data["name"],
            device_name=data.validated_data["device_name"],
        )
        return _token_response(issued, user, request, status.HTTP_201_CREATED)


class PasswordResetView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetIPThrottle]

    @extend_schema(
        request=PasswordResetSerializer,
        responses={202: OpenApiResponse(description="Always, whether or not the address belongs to someone."), 429: ErrorSerializer},
        operation_id="auth_password_reset",
        tags=["auth"],
    )
    def post(self, request):
        data = PasswordResetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_reset_request(email=data.validated_data["email"])
        return Response({}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [PasswordResetIPThrottle]

    @extend_schema(
        request=PasswordResetConfirmSerializer,
        responses={200: TokenResponseSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
        operation_id="auth_password_reset_confirm",
        tags=["auth"],
    )
    def post(self, request):
        data = PasswordResetConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, issued = services.password_reset_confirm(**data.validated_data)
        return _token_response(issued, user, request)


class MePasswordView(APIView):
    @extend_schema(
        request=PasswordChangeSerializer, responses={204: None, 400: ErrorSerializer}, operation_id="me_password_change", tags=["people"]
    )
    def post(self, request):
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(user=request.user, token=request.auth, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserLoginCodeView(APIView):
    @extend_schema(
        request=None,
        responses={201: LoginCodeSerializer, 403: ErrorSerializer},
        operation_id="users_login_code",
        tags=["admin"],
        description="A one-time code for a colleague without e-mail (or who forgot the password): admins, and managers of "
        "one of the person's groups. They set a password with it at /auth/password-reset/confirm.",
    )
    def post(self, request, user_id: int):
        user = selectors.access_user(actor=request.user, user_id=user_id)
        code, expires_at = services.login_code_issue(actor=request.user, user=user)
        return Response(LoginCodeSerializer({"code": code, "expires_at": expires_at}).data, status=status.HTTP_201_CREATED)


class MeView(APIView):
    @extend_schema(responses={200: MeSerializer}, operation_id="me_retrieve", tags=["people"])
    def get(self, request):
        # A plain dict from the authenticated user and two precompiled reads: the phone asks
        # for this constantly (issue #10, F5). MeSerializer stays the schema and PATCH's answer.
        return Response(selectors.me_get(user=request.user))

    @extend_schema(request=MeUpdateSerializer, responses={200: MeSerializer}, operation_id="me_update", tags=["people"])
    def patch(self, request):
        data = MeUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.me_update(
            user=request.user,
            name=data.validated_data.get("name"),
            language=data.validated_data.get("language"),
            timezone_name=data.validated_data.get("timezone"),
        )
        return Response(MeSerializer(_me(request.user), context={"request": request}).data)


class UserListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("search", str, description="Part of a name or e-mail address.")],
        responses={200: ColleagueSerializer(many=True)},
        operation_id="users_list",
        tags=["people"],
    )
    def get(self, request):
        search = request.query_params.get("search", "").strip()[:100]
        return paginated(self, selectors.user_list(actor=request.user, search=search), ColleagueSerializer)


class UserDetailView(APIView):
    def get_permissions(self):
        if self.request.method == "PATCH":
            return [IsOrgAdmin()]
        return super().get_permissions()

    @extend_schema(responses={200: ColleagueSerializer}, operation_id="users_retrieve", tags=["people"])
    def get(self, request, user_id: int):
        return Response(ColleagueSerializer(selectors.access_user(actor=request.user, user_id=user_id), context={"request": request}).data)

    @extend_schema(request=UserAdminUpdateSerializer, responses={200: ColleagueSerializer}, operation_id="users_update", tags=["admin"])
    def patch(self, request, user_id: int):
        user = selectors.access_user(actor=request.user, user_id=user_id)
        data = UserAdminUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_update(
            actor=request.user, user=user, role=data.validated_data.get("role"), group_ids=data.validated_data.get("group_ids")
        )
        return Response(ColleagueSerializer(selectors.access_user(actor=request.user, user_id=user_id), context={"request": request}).data)


class UserDeactivateView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(request=None, responses={204: None}, operation_id="users_deactivate", tags=["admin"])
    def post(self, request, user_id: int):
        user = selectors.access_user(actor=request.user, user_id=user_id)
        services.user_deactivate(actor=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserReactivateView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        request=None, responses={200: ColleagueSerializer, 409: ErrorSerializer}, operation_id="users_reactivate", tags=["admin"]
    )
    def post(self, request, user_id: int):
        user = selectors.access_user(actor=request.user, user_id=user_id, include_inactive=True)
        services.user_reactivate(actor=request.user, user=user)
        return Response(ColleagueSerializer(selectors.access_user(actor=request.user, user_id=user_id), context={"request": request}).data)


class UserImportView(APIView):
    permission_classes = [IsOrgAdmin]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(description="Nothing imported; `fields.rows` holds the report per row."),
        },
        operation_id="users_import",
        tags=["admin"],
    )
    def post(self, request):
        data = ImportUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        if upload.size > 2 * 1024 * 1024:
            raise ValidationFailed(_("The file is larger than 2 MB."), fields={"file": [_("Too large.")]})
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(_("The file must be UTF-8 CSV."), fields={"file": [_("Not UTF-8.")]})
        report = services.users_import(actor=request.user, csv_text=text)
        rows = [
            {
                "row": r.row,
                "email": r.email,
                "employee_number": r.employee_number,
                "status": r.status,
                "errors": r.errors,
                "invitation_id": r.invitation_id,
                "code": r.code,
            }
            for r in report
        ]
        return Response(ImportReportSerializer({"invited": len(rows), "rows": rows}).data)


class InvitationCreateView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=INVITATION_STATUSES)],
        responses={200: InvitationSerializer(many=True)},
        operation_id="invitations_list",
        tags=["admin"],
    )
    def get(self, request):
        invitations = selectors.invitation_list(actor=request.user, status=request.query_params.get("status", ""))
        return paginated(self, invitations, InvitationSerializer)

    @extend_schema(
        request=InvitationCreateSerializer, responses={201: InvitationCreatedSerializer}, operation_id="invitations_create", tags=["admin"]
    )
    def post(self, request):
        data = InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation, code = services.invitation_create(actor=request.user, **data.validated_data)
        body = {"id": invitation.pk, "code": code, "expires_at": invitation.expires_at}
        return Response(InvitationCreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class GroupListView(APIView):
    def get_permissions(self):
        if self.request.method == "POST":
            return [IsOrgAdmin()]
        return super().get_permissions()

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=["team", "location", "department", "interest"])],
        responses={200: GroupSerializer(many=True)},
        operation_id="groups_list",
        tags=["people"],
    )
    def get(self, request):
        return paginated(self, selectors.group_list(actor=request.user, kind=request.query_params.get("kind", "")), GroupSerializer)

    @extend_schema(request=GroupWriteSerializer, responses={201: GroupSerializer}, operation_id="groups_create", tags=["admin"])
    def post(self, request):
        data = GroupWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(actor=request.user, **data.validated_data)
        return Response(GroupSerializer(selectors.access_group(actor=request.user, group_id=group.pk)).data, status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    def get_permissions(self):
        if self.request.method in ("PATCH", "DELETE"):
            return [IsOrgAdmin()]
        return super().get_permissions()

    @extend_schema(
        request=None,
        responses={204: None},
        operation_id="groups_archive",
        tags=["admin"],
        description="Archives the group: its posts stay, its memberships go, it leaves every list. Idempotent only until "
        "then: an archived group is not found.",
    )
    def delete(self, request, group_id: int):
        group = selectors.access_group(actor=request.user, group_id=group_id)
        services.group_archive(actor=request.user, group=group)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: GroupSerializer}, operation_id="groups_retrieve", tags=["people"])
    def get(self, request, group_id: int):
        return Response(GroupSerializer(selectors.access_group(actor=request.user, group_id=group_id)).data)

    @extend_schema(
        request=GroupWriteSerializer(partial=True), responses={200: GroupSerializer}, operation_id="groups_update", tags=["admin"]
    )
    def patch(self, request, group_id: int):
        group = selectors.access_group(actor=request.user, group_id=group_id)
        data = GroupWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.group_update(actor=request.user, group=group, **data.validated_data)
        return Response(GroupSerializer(selectors.access_group(actor=request.user, group_id=group_id)).data)


class GroupMemberListView(APIView):
    # Adding members: admins, and the leaders who manage the group (the service checks).

    @extend_schema(responses={200: GroupMemberSerializer(many=True)}, operation_id="group_members_list", tags=["people"])
    def get(self, request, group_id: int):
        group = selectors.access_group(actor=request.user, group_id=group_id)
        return paginated(self, selectors.group_member_list(actor=request.user, group=group), GroupMemberSerializer)

    @extend_schema(
        request=MembershipWriteSerializer, responses={201: GroupMemberSerializer}, operation_id="group_members_add", tags=["admin"]
    )
    def post(self, request, group_id: int):
        group = selectors.access_group(actor=request.user, group_id=group_id)
        data = MembershipWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_add(actor=request.user, group=group, **data.validated_data)
        return Response(GroupMemberSerializer(membership).data, status=status.HTTP_201_CREATED)


class GroupMemberDetailView(APIView):
    # Removing members: admins, and the leaders who manage the group (the service checks).

    @extend_schema(request=None, responses={204: None}, operation_id="group_members_remove", tags=["admin"])
    def delete(self, request, group_id: int, user_id: int):
        group = selectors.access_group(actor=request.user, group_id=group_id)
        services.membership_remove(actor=request.user, group=group, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationDetailView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(request=None, responses={204: None, 409: ErrorSerializer}, operation_id="invitations_revoke", tags=["admin"])
    def delete(self, request, invitation_id: int):
        invitation = selectors.access_invitation(actor=request.user, invitation_id=invitation_id)
        services.invitation_revoke(actor=request.user, invitation=invitation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationResendView(APIView):
    permission_classes = [IsOrgAdmin]

    @extend_schema(
        request=None,
        responses={200: InvitationCreatedSerializer, 409: ErrorSerializer},
        operation_id="invitations_resend",
        tags=["admin"],
        description="A new code (the old one stops working), valid for a new period; e-mailed again when the invitation has an address.",
    )
    def post(self, request, invitation_id: int):
        invitation = selectors.access_invitation(actor=request.user, invitation_id=invitation_id)
        invitation, code = services.invitation_resend(actor=request.user, invitation=invitation)
        return Response(InvitationCreatedSerializer({"id": invitation.pk, "code": code, "expires_at": invitation.expires_at}).data)

from django.urls import path

from accounts import views

urlpatterns = [
    path("auth/login", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/activate", views.ActivateView.as_view(), name="auth-activate"),
    path("auth/password-reset", views.PasswordResetView.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    path("me", views.MeView.as_view(), name="me"),
    path("me/password", views.MePasswordView.as_view(), name="me-password"),
    path("users", views.UserListView.as_view(), name="user-list"),
    path("users/import", views.UserImportView.as_view(), name="user-import"),
    path("users/<int:user_id>", views.UserDetailView.as_view(), name="user-detail"),
    path("users/<int:user_id>/deactivate", views.UserDeactivateView.as_view(), name="user-deactivate"),
    path("users/<int:user_id>/reactivate", views.UserReactivateView.as_view(), name="user-reactivate"),
    path("users/<int:user_id>/login-code", views.UserLoginCodeView.as_view(), name="user-login-code"),
    path("invitations", views.InvitationCreateView.as_view(), name="invitation-create"),
    path("invitations/<int:invitation_id>", views.InvitationDetailView.as_view(), name="invitation-detail"),
    path("invitations/<int:invitation_id>/resend", views.InvitationResendView.as_view(), name="invitation-resend"),
    path("groups", views.GroupListView.as_view(), name="group-list"),
    path("groups/<int:group_id>", views.GroupDetailView.as_view(), name="group-detail"),
    path("groups/<int:group_id>/members", views.GroupMemberListView.as_view(), name="group-member-list"),
    path("groups/<int:group_id>/members/<int:user_id>", views.GroupMemberDetailView.as_view(), name="group-member-detail"),
]

from django.urls import path

from moderation import views

urlpatterns = [
    path("reports", views.ReportCreateView.as_view(), name="report-create"),
    path("moderation/summary", views.SummaryView.as_view(), name="moderation-summary"),
    path("moderation/reports", views.CaseListView.as_view(), name="moderation-report-list"),
    path("moderation/reports/<int:report_id>", views.CaseDetailView.as_view(), name="moderation-report-detail"),
    path("moderation/reports/<int:report_id>/resolve", views.CaseResolveView.as_view(), name="moderation-report-resolve"),
    path("moderation/posts/<int:post_id>/restore", views.PostRestoreView.as_view(), name="moderation-post-restore"),
    path("moderation/posts/<int:post_id>/lock-comments", views.CommentLockView.as_view(), name="moderation-post-lock-comments"),
    path("moderation/posts/<int:post_id>/unlock-comments", views.CommentUnlockView.as_view(), name="moderation-post-unlock-comments"),
    path("moderation/comments/<int:comment_id>/restore", views.CommentRestoreView.as_view(), name="moderation-comment-restore"),
    path("moderation/signals/<int:signal_id>/restore", views.SignalRestoreView.as_view(), name="moderation-signal-restore"),
    path("moderation/users/<int:user_id>/mute", views.UserMuteView.as_view(), name="moderation-user-mute"),
    path("moderation/users/<int:user_id>/unmute", views.UserUnmuteView.as_view(), name="moderation-user-unmute"),
    path("moderation/keywords", views.KeywordsView.as_view(), name="moderation-keywords"),
]

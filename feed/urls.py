from django.urls import path

from feed import views

urlpatterns = [
    path("feed", views.FeedView.as_view(), name="feed"),
    path("feed/updates", views.FeedUpdatesView.as_view(), name="feed-updates"),
    path("posts", views.PostCreateView.as_view(), name="post-create"),
    path("posts/seen", views.PostsSeenView.as_view(), name="posts-seen"),
    path("posts/<int:post_id>", views.PostDetailView.as_view(), name="post-detail"),
    path("posts/<int:post_id>/pin", views.PostPinView.as_view(), name="post-pin"),
    path("posts/<int:post_id>/unpin", views.PostUnpinView.as_view(), name="post-unpin"),
    path("posts/<int:post_id>/acknowledge", views.PostAcknowledgeView.as_view(), name="post-acknowledge"),
    path("posts/<int:post_id>/reach", views.PostReachView.as_view(), name="post-reach"),
    path("posts/<int:post_id>/reach/export", views.PostReachExportView.as_view(), name="post-reach-export"),
    path("posts/<int:post_id>/comments", views.CommentListView.as_view(), name="post-comments"),
    path("posts/<int:post_id>/reaction", views.ReactionView.as_view(), name="post-reaction"),
    path("comments/<int:comment_id>", views.CommentDetailView.as_view(), name="comment-detail"),
    path("goals", views.GoalListView.as_view(), name="goal-list"),
    path("goals/<int:goal_id>", views.GoalDetailView.as_view(), name="goal-detail"),
    path("goals/<int:goal_id>/updates", views.GoalProgressView.as_view(), name="goal-updates"),
    path("key-moments", views.KeyMomentListView.as_view(), name="key-moment-list"),
    path("key-moments/<int:key_moment_id>", views.KeyMomentDetailView.as_view(), name="key-moment-detail"),
]

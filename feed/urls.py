from django.urls import path

from feed.views import feed, goals, interactions, polls, posts

urlpatterns = [
    path("feed", feed.FeedView.as_view(), name="feed"),
    path("feed/updates", feed.FeedUpdatesView.as_view(), name="feed-updates"),
    path("posts", posts.PostCreateView.as_view(), name="post-create"),
    path("posts/seen", interactions.PostsSeenView.as_view(), name="posts-seen"),
    path("posts/<int:post_id>", posts.PostDetailView.as_view(), name="post-detail"),
    path("posts/<int:post_id>/pin", posts.PostPinView.as_view(), name="post-pin"),
    path("posts/<int:post_id>/unpin", posts.PostUnpinView.as_view(), name="post-unpin"),
    path("posts/<int:post_id>/acknowledge", interactions.PostAcknowledgeView.as_view(), name="post-acknowledge"),
    path("posts/<int:post_id>/reach", posts.PostReachView.as_view(), name="post-reach"),
    path("posts/<int:post_id>/reach/export", posts.PostReachExportView.as_view(), name="post-reach-export"),
    path("posts/<int:post_id>/reach/not-acknowledged", posts.PostNotAcknowledgedView.as_view(), name="post-reach-not-acknowledged"),
    path("posts/<int:post_id>/remind", posts.PostRemindView.as_view(), name="post-remind"),
    path("posts/<int:post_id>/comments", interactions.CommentListView.as_view(), name="post-comments"),
    path("posts/<int:post_id>/reaction", interactions.ReactionView.as_view(), name="post-reaction"),
    path("posts/<int:post_id>/reactions", interactions.ReactionListView.as_view(), name="post-reactions"),
    path("posts/<int:post_id>/poll/vote", polls.PollVoteView.as_view(), name="post-poll-vote"),
    path("posts/<int:post_id>/poll/close", polls.PollCloseView.as_view(), name="post-poll-close"),
    path("posts/<int:post_id>/poll/voters", polls.PollVotersView.as_view(), name="post-poll-voters"),
    path("comments/<int:comment_id>", interactions.CommentDetailView.as_view(), name="comment-detail"),
    path("goals", goals.GoalListView.as_view(), name="goal-list"),
    path("goals/<int:goal_id>", goals.GoalDetailView.as_view(), name="goal-detail"),
    path("goals/<int:goal_id>/updates", goals.GoalProgressView.as_view(), name="goal-updates"),
    path("key-moments", goals.KeyMomentListView.as_view(), name="key-moment-list"),
    path("key-moments/<int:key_moment_id>", goals.KeyMomentDetailView.as_view(), name="key-moment-detail"),
]

from django.urls import path

from recognition import views

urlpatterns = [
    path("values", views.ValueListView.as_view(), name="value-list"),
    path("values/<int:value_id>", views.ValueDetailView.as_view(), name="value-detail"),
    path("kudos", views.KudosListView.as_view(), name="kudos-list"),
    path("kudos/<int:kudos_id>", views.KudosDetailView.as_view(), name="kudos-detail"),
    path("kudos/<int:kudos_id>/nominate", views.KudosNominateView.as_view(), name="kudos-nominate"),
    path("awards/categories", views.CategoryListView.as_view(), name="award-category-list"),
    path("awards/categories/<int:category_id>", views.CategoryDetailView.as_view(), name="award-category-detail"),
    path("awards/rounds", views.RoundListView.as_view(), name="award-round-list"),
    path("awards/rounds/<int:round_id>", views.RoundDetailView.as_view(), name="award-round-detail"),
    path("awards/rounds/<int:round_id>/nominations", views.RoundNominationListView.as_view(), name="award-round-nominations"),
    path("awards/rounds/<int:round_id>/close", views.RoundCloseView.as_view(), name="award-round-close"),
    path("awards/rounds/<int:round_id>/winner", views.RoundWinnerView.as_view(), name="award-round-winner"),
    path("awards/rounds/<int:round_id>/results", views.RoundResultsView.as_view(), name="award-round-results"),
    path("nominations/<int:nomination_id>/endorse", views.NominationEndorseView.as_view(), name="nomination-endorse"),
    path("users/<int:user_id>/recognition", views.WallOfFameView.as_view(), name="user-recognition"),
    path("recognition/leaderboard", views.LeaderboardView.as_view(), name="recognition-leaderboard"),
    path("recognition/wall", views.RecognitionWallView.as_view(), name="recognition-wall"),
    path("recognition/insights", views.InsightsView.as_view(), name="recognition-insights"),
]

from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("", views.console_home, name="home"),
    path("login/", views.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views.ConsoleLogoutView.as_view(), name="logout"),
    path("reach/", views.ReachPage.as_view(), name="reach"),
    path("reach/<int:post_id>/remind/", views.RemindNowView.as_view(), name="remind"),
    path("engagement/", views.EngagementPage.as_view(), name="engagement"),
    path("recognition/", views.RecognitionPage.as_view(), name="recognition"),
    path("voice/", views.VoicePage.as_view(), name="voice"),
    path("voice/signals/<int:signal_id>/", views.SignalPage.as_view(), name="signal"),
    path("surveys/", views.SurveysPage.as_view(), name="surveys"),
]

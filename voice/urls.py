from django.urls import path

from voice import survey_views
from voice.views import signals

urlpatterns: list = [
    path("surveys", survey_views.SurveyListView.as_view(), name="survey-list"),
    path("surveys/<int:survey_id>", survey_views.SurveyDetailView.as_view(), name="survey-detail"),
    path("surveys/<int:survey_id>/responses", survey_views.SurveyResponseView.as_view(), name="survey-responses"),
    path("surveys/<int:survey_id>/results", survey_views.SurveyResultsView.as_view(), name="survey-results"),
    path("surveys/<int:survey_id>/results/export", survey_views.SurveyResultsExportView.as_view(), name="survey-results-export"),
    path("surveys/<int:survey_id>/trend", survey_views.SurveyTrendView.as_view(), name="survey-trend"),
    path("signals", signals.SignalListView.as_view(), name="signal-list"),
    path("signals/insights", signals.SignalInsightsView.as_view(), name="signal-insights"),
    path("signals/<int:signal_id>", signals.SignalDetailView.as_view(), name="signal-detail"),
    path("signals/<int:signal_id>/support", signals.SignalSupportView.as_view(), name="signal-support"),
    path("signals/<int:signal_id>/assign", signals.SignalAssignView.as_view(), name="signal-assign"),
    path("signals/<int:signal_id>/status", signals.SignalStatusView.as_view(), name="signal-status"),
    path("signals/<int:signal_id>/merge", signals.SignalMergeView.as_view(), name="signal-merge"),
]

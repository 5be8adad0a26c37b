from django.urls import path

from voice import survey_views

urlpatterns: list = [
    path("surveys", survey_views.SurveyListView.as_view(), name="survey-list"),
    path("surveys/<int:survey_id>", survey_views.SurveyDetailView.as_view(), name="survey-detail"),
    path("surveys/<int:survey_id>/responses", survey_views.SurveyResponseView.as_view(), name="survey-responses"),
    path("surveys/<int:survey_id>/results", survey_views.SurveyResultsView.as_view(), name="survey-results"),
    path("surveys/<int:survey_id>/results/export", survey_views.SurveyResultsExportView.as_view(), name="survey-results-export"),
    path("surveys/<int:survey_id>/trend", survey_views.SurveyTrendView.as_view(), name="survey-trend"),
]

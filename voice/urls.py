from django.urls import path

from voice.views import signals

urlpatterns: list = [
    path("signals", signals.SignalListView.as_view(), name="signal-list"),
    path("signals/insights", signals.SignalInsightsView.as_view(), name="signal-insights"),
    path("signals/<int:signal_id>", signals.SignalDetailView.as_view(), name="signal-detail"),
    path("signals/<int:signal_id>/support", signals.SignalSupportView.as_view(), name="signal-support"),
    path("signals/<int:signal_id>/assign", signals.SignalAssignView.as_view(), name="signal-assign"),
    path("signals/<int:signal_id>/status", signals.SignalStatusView.as_view(), name="signal-status"),
    path("signals/<int:signal_id>/merge", signals.SignalMergeView.as_view(), name="signal-merge"),
]

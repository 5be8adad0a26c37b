"""Voice's models, one module per use case (signals, surveys); re-exported here for Django."""

from voice.models.signals import (
    Signal,
    SignalEntry,
    SignalEntryKind,
    SignalImage,
    SignalKind,
    SignalStatus,
    SignalSupport,
    SignalVisibility,
)
from voice.models.surveys import (  # noqa: F401
    Every,
    QuestionKind,
    Survey,
    SurveyAnswer,
    SurveyInstance,
    SurveyOption,
    SurveyParticipation,
    SurveyQuestion,
    SurveyResponse,
    SurveyResponseGroup,
)

__all__ = [
    "Signal",
    "SignalEntry",
    "SignalEntryKind",
    "SignalImage",
    "SignalKind",
    "SignalStatus",
    "SignalSupport",
    "SignalVisibility",
]

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

"""Signals found by their title and body (search.registry): `signal_list`'s audience rule.

Anonymous authors are never found by name, by construction: the stored vector and
`text_fields` hold the title and body only (voice/migrations/0004_search_vector.py), the rows
are neither joined nor filtered on the author, and the cards are the signal's own card, whose
author is null for anyone but the author (voice.signal_cards). Merged signals (found as the
signal they were merged into) and hidden ones (hidden content never is found, not even by an
admin) are left out. `?group=` keeps the signals raised for that group.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from search.registry import SearchProvider, register
from voice.models import Signal, SignalStatus
from voice.selectors.signals import signal_list, visible_q
from voice.serializers import SignalSerializer
from voice.signal_cards import signal_cards


def _rows(*, user: User, group_id: int | None) -> QuerySet[Signal]:
    signals = Signal.objects.filter(visible_q(user=user), organization_id=user.organization_id, hidden_at__isnull=True).exclude(
        status=SignalStatus.MERGED
    )
    if group_id is not None:
        signals = signals.filter(group_id=group_id)
    return signals


def _cards(*, user: User, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The cards of GET /signals/{id}, a page at once: four queries whatever its size."""
    signals = list(signal_list(user=user).filter(pk__in=ids))
    return {card["id"]: card for card in signal_cards(signals=signals, viewer=user)}


def register_search() -> None:
    register(
        SearchProvider(
            type="signal",
            position=70,
            rows=_rows,
            cards=_cards,
            card_serializer=SignalSerializer,
            text_fields=("title", "body"),
            recency_field="created_at",
        )
    )

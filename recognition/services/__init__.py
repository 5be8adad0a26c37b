"""Writes of the recognition app, one function per use case (re-exported here)."""

from recognition.services.awards import (
    award_category_create,
    award_category_update,
    award_round_ensure,
    award_rounds_open_current,
    nomination_create,
    nomination_endorse,
)
from recognition.services.closing import (
    CloseSweep,
    award_round_close,
    award_round_pick_fallback,
    award_round_pick_winner,
    award_rounds_close_due,
)
from recognition.services.kudos import kudos_give, kudos_nominate
from recognition.services.values import value_create, value_update

__all__ = [
    "CloseSweep",
    "award_category_create",
    "award_category_update",
    "award_round_close",
    "award_round_ensure",
    "award_round_pick_fallback",
    "award_round_pick_winner",
    "award_rounds_close_due",
    "award_rounds_open_current",
    "kudos_give",
    "kudos_nominate",
    "nomination_create",
    "nomination_endorse",
    "value_create",
    "value_update",
]

"""Voice for seed_demo: each part seeds its own (idempotent) demo content."""

from __future__ import annotations

from accounts.demo import DemoContext
from voice import survey_demo


def seed(context: DemoContext) -> None:
    survey_demo.seed(context)

"""A chart as the console draws it: labels and series for Chart.js, and the same numbers as a
table (shown under the chart, for screen readers and for copying) and as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # "line" | "bar"
    labels: list[str]
    series: list[dict[str, Any]]  # [{"label": .., "data": [..]}]
    columns: list[str]
    rows: list[list[Any]]
    empty: str = ""  # what to do when there is nothing to show yet
    percent: bool = False
    stacked: bool = False
    links: list[str | None] = field(default_factory=list)  # a link per table row

    @property
    def is_empty(self) -> bool:
        return not self.rows

    def spec(self) -> dict[str, Any]:
        """What console.js hands to Chart.js."""
        return {"type": self.kind, "labels": self.labels, "datasets": self.series, "percent": self.percent, "stacked": self.stacked}

    def table(self) -> list[tuple[list[Any], str | None]]:
        links = self.links or [None] * len(self.rows)
        return list(zip(self.rows, links, strict=False))

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for row in self.rows:
            # A leading =, +, - or @ would be a formula in a spreadsheet: quote it as text.
            writer.writerow([f"'{cell}" if isinstance(cell, str) and cell[:1] in "=+-@" else cell for cell in row])
        return out.getvalue()

"""Shared output of every benchmark: an aligned table, then one JSON line last."""

from __future__ import annotations

import json
import resource
from typing import Any, Sequence


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under headers, columns aligned, numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [
        max(len(str(header)), *(len(row[i]) for row in cells)) if cells else len(header)
        for i, header in enumerate(headers)
    ]
    print("  ".join(str(h).ljust(w) for h, w in zip(headers, widths)))
    print("  ".join("-" * w for w in widths))
    for row, raw in zip(cells, rows):
        print(
            "  ".join(
                c.rjust(w) if isinstance(v, (int, float)) else c.ljust(w)
                for c, w, v in zip(row, widths, raw)
            )
        )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def print_json(figures: dict[str, Any]) -> None:
    """The last line of a benchmark's output: its figures and ratios as JSON."""
    print(json.dumps(figures, sort_keys=True, default=str))


def peak_rss_children_mb() -> float:
    """Peak resident memory of the largest finished child process, in MB."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

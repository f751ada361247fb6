"""Where a profiled sync spent its time: by module, and our functions by total time."""

from __future__ import annotations

import pstats
from collections import defaultdict
from pathlib import Path

from benchmarks.report import print_table

REPO = str(Path(__file__).resolve().parents[1]) + "/"

# What the hot path does, step by step (cumulative time of each).
STEPS = (
    ("mailservice/sync/fetch.py", "fetch_new_messages"),
    ("mailservice/sync/wire.py", "uid_fetch"),
    ("mailservice/sync/fetch.py", "_stored"),
    ("mailservice/store/raw.py", "put"),
    ("mailservice/parsing/headers.py", "parse_headers"),
    ("mailservice/sync/fetch.py", "make_durable"),
    ("mailservice/threads/subject_links.py", "subject_links"),
    ("mailservice/sync/ingest.py", "ingest_batch"),
    ("mailservice/sync/ingest.py", "_insert_messages"),
    ("mailservice/sync/ingest.py", "_insert_locations"),
    ("mailservice/contacts/linking.py", "link_messages"),
    ("mailservice/threads/threader.py", "thread_messages"),
    ("sqlalchemy/orm/session.py", "commit"),
)


def print_profile(path: Path, top: int = 15) -> None:
    """Print the modules and functions that took the most own time, then the steps."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    total = sum(own for _cc, _nc, own, _cum, _callers in stats.values())

    by_module: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.items():
        by_module[_short(filename)] += own
    ranked = sorted(by_module.items(), key=lambda item: -item[1])[:top]
    print(f"\nown time by module (of {total:.1f} s profiled)")
    print_table(["module", "seconds", "share %"],
                [[name, secs, 100 * secs / total] for name, secs in ranked])

    functions = sorted(stats.items(), key=lambda item: -item[1][2])[:top]
    print("\nown time by function")
    print_table(["function", "calls", "seconds", "share %"], [
        [f"{_short(filename)}:{name}", calls, own, 100 * own / total]
        for (filename, _line, name), (_cc, calls, own, _cum, _c) in functions
    ])

    print("\nsteps of the hot path, cumulative")
    rows = []
    for suffix, function in STEPS:
        for (filename, _line, name), (_cc, calls, _own, cum, _c) in stats.items():
            if name == function and filename.endswith(suffix):
                rows.append([f"{suffix}:{function}", calls, cum, 100 * cum / total])
                break
    print_table(["function", "calls", "seconds", "share %"], rows)


def _short(filename: str) -> str:
    if filename == "~":
        return "(built-in)"
    for marker in ("site-packages/", REPO, "lib/python3.11/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename

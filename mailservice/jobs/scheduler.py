"""The scheduler: periodic work that one process per installation runs.

Every few seconds it extracts bodies of newly synced messages and indexes them
for search; every half minute it sweeps the outbox (stranded messages, lost
jobs, Sent copies, returns). A failing task is logged and tried again at its
next turn; it never stops the others.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from mailservice.config import Settings
from mailservice.db.session import session_factory

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0


@dataclass
class PeriodicTask:
    """A task and how often it runs."""

    name: str
    every_seconds: float
    run: Callable[[Settings], object]
    due_at: float = 0.0


def extract_bodies(settings: Settings) -> object:
    """Extract bodies and attachments of messages the sync listed from headers."""
    from mailservice.messages.extract import extract_pending

    return extract_pending(settings)


def index_for_search(settings: Settings) -> int:
    """Add newly parsed messages to the full-text index, in batches."""
    from mailservice.inbox.search_index import index_pending

    factory = session_factory(settings.effective_database_url)
    total = 0
    while True:
        with factory() as session:
            indexed = index_pending(session)
            session.commit()
        total += indexed
        if indexed == 0:
            return total


def sweep_outbox(settings: Settings) -> object:
    """Re-dispatch stranded outgoing mail and finish Sent copies."""
    from mailservice.outbound.sweeper import sweep

    return sweep(settings)


def default_tasks(with_sweep: bool = True) -> list[PeriodicTask]:
    """The periodic tasks; the sweep is left out where embedded workers sweep."""
    tasks = [
        PeriodicTask("body extraction", 5.0, extract_bodies),
        PeriodicTask("search index", 5.0, index_for_search),
    ]
    if with_sweep:
        tasks.append(PeriodicTask("outbox sweep", 30.0, sweep_outbox))
    return tasks


def run_scheduler(
    settings: Settings,
    stop_event: threading.Event,
    tasks: list[PeriodicTask] | None = None,
) -> None:
    """Run the periodic tasks until `stop_event` is set."""
    tasks = tasks if tasks is not None else default_tasks()
    log.info("scheduler started tasks=%s", [task.name for task in tasks])
    while not stop_event.is_set():
        for task in tasks:
            if stop_event.is_set() or time.monotonic() < task.due_at:
                continue
            _run_once(settings, task)
            task.due_at = time.monotonic() + task.every_seconds
        stop_event.wait(TICK_SECONDS)
    log.info("scheduler stopped")


def _run_once(settings: Settings, task: PeriodicTask) -> None:
    started = time.monotonic()
    try:
        result = task.run(settings)
    except Exception:
        log.exception(
            "scheduled task failed task=%s; next turn in %.0fs",
            task.name,
            task.every_seconds,
        )
        return
    log.debug(
        "scheduled task done task=%s result=%s seconds=%.2f",
        task.name,
        result,
        time.monotonic() - started,
    )

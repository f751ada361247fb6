"""Writing components as threads: create, merge, assign, and keep the summaries.

A component that touches no thread gets a new one. A component that touches
several keeps the lowest thread id, so links to the oldest thread stay valid; the
messages of the others move to it and the emptied threads are deleted. Summaries
(message_count, first_at, last_at, and the subject of the earliest message) are
combined from the threads' stored summaries and the new messages, without reading
whole threads back.

The work state of a thread (inbox ThreadState: assignee, handled) follows the kept
thread: the kept thread's own state wins; without one, it takes the state of the
lowest absorbed thread that has one. Any other per-thread table added later must
be carried over in `_absorb_threads` too, or its rows vanish with the absorbed
threads (ondelete CASCADE).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from mailservice.inbox.models import ThreadState
from mailservice.messages.models import Message
from mailservice.threads.batch import ThreadedMessage, in_chunks, one_of
from mailservice.threads.components import Group
from mailservice.threads.models import Thread

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Summary:
    """What a thread row says about its messages."""

    subject: str | None
    normalized_subject: str | None
    first_at: datetime | None
    last_at: datetime | None
    message_count: int

    @classmethod
    def of_message(cls, message: ThreadedMessage) -> Summary:
        """The summary of a thread holding only this message."""
        return cls(
            message.subject, message.normalized_subject,
            message.sent_at, message.sent_at, 1,
        )

    def combine(self, other: Summary) -> Summary:
        """The summary of both threads' messages together."""
        earliest = min(self, other, key=_earliest_first)
        return Summary(
            earliest.subject,
            earliest.normalized_subject,
            _pick(min, self.first_at, other.first_at),
            _pick(max, self.last_at, other.last_at),
            self.message_count + other.message_count,
        )


def _earliest_first(summary: Summary) -> tuple:
    # Undated last; equal dates decided by the subject, not by arrival order.
    at = summary.first_at
    return (at is None, at or _EPOCH, summary.subject or "")


def _pick(choose, a: datetime | None, b: datetime | None) -> datetime | None:
    present = [value for value in (a, b) if value is not None]
    return choose(present) if present else None


@dataclass
class Plan:
    """What one component becomes: the kept thread, the absorbed ones, the summary."""

    summary: Summary
    target: int | None
    created: bool = False
    absorbed: list[int] = field(default_factory=list)
    new_message_ids: list[int] = field(default_factory=list)


def place_groups(session: Session, groups: list[Group]) -> list[Plan]:
    """Write each component as one thread; returns what was done."""
    stored = _load_summaries(session, set().union(*(g.thread_ids for g in groups)))
    plans = [_plan(group, stored) for group in groups]

    _create_threads(session, [plan for plan in plans if plan.target is None])
    _absorb_threads(session, [plan for plan in plans if plan.absorbed])
    _assign_messages(session, plans)
    _write_summaries(session, plans)
    return plans


def _plan(group: Group, stored: dict[int, Summary]) -> Plan:
    threads = sorted(t for t in group.thread_ids if t in stored)
    parts = [stored[t] for t in threads]
    parts += [Summary.of_message(m) for m in group.unthreaded]

    summary = parts[0]
    for part in parts[1:]:
        summary = summary.combine(part)
    return Plan(
        summary=summary,
        target=threads[0] if threads else None,
        absorbed=threads[1:],
        new_message_ids=[m.id for m in group.unthreaded],
    )


def _load_summaries(session: Session, thread_ids: set[int]) -> dict[int, Summary]:
    summaries: dict[int, Summary] = {}
    for chunk in in_chunks(sorted(thread_ids)):
        rows = session.execute(
            select(
                Thread.id, Thread.subject, Thread.normalized_subject,
                Thread.first_at, Thread.last_at, Thread.message_count,
            ).where(one_of(session, Thread.id, chunk))
        )
        for thread_id, *fields in rows:
            summaries[thread_id] = Summary(*fields)
    return summaries


def _create_threads(session: Session, plans: list[Plan]) -> None:
    if not plans:
        return
    rows = [dict(vars(plan.summary)) for plan in plans]
    statement = insert(Thread).returning(Thread.id, sort_by_parameter_order=True)
    for plan, thread_id in zip(plans, session.scalars(statement, rows)):
        plan.target, plan.created = thread_id, True


def _absorb_threads(session: Session, plans: list[Plan]) -> None:
    # Messages move before their old thread goes: its foreign key would otherwise
    # set them to NULL (ondelete SET NULL).
    for plan in plans:
        session.execute(
            update(Message)
            .where(Message.thread_id.in_(plan.absorbed))
            .values(thread_id=plan.target)
        )
    _keep_thread_states(session, plans)
    absorbed = [thread_id for plan in plans for thread_id in plan.absorbed]
    for chunk in in_chunks(absorbed):
        session.execute(delete(Thread).where(one_of(session, Thread.id, chunk)))


def _keep_thread_states(session: Session, plans: list[Plan]) -> None:
    involved = [t for plan in plans for t in [plan.target, *plan.absorbed]]
    with_state: set[int] = set()
    for chunk in in_chunks(involved):
        query = select(ThreadState.thread_id).where(
            one_of(session, ThreadState.thread_id, chunk)
        )
        with_state.update(session.scalars(query))

    for plan in plans:
        donors = [t for t in plan.absorbed if t in with_state]
        if plan.target in with_state or not donors:
            continue
        session.execute(
            update(ThreadState)
            .where(ThreadState.thread_id == donors[0])
            .values(thread_id=plan.target)
            .execution_options(synchronize_session=False)
        )
        log.info("thread %d takes the work state of thread %d", plan.target, donors[0])


def _assign_messages(session: Session, plans: list[Plan]) -> None:
    rows = [
        {"key": message_id, "thread_id": plan.target}
        for plan in plans
        for message_id in plan.new_message_ids
    ]
    _update_by_key(session, Message, rows)


def _write_summaries(session: Session, plans: list[Plan]) -> None:
    rows = [
        {"key": plan.target} | vars(plan.summary) for plan in plans if not plan.created
    ]
    _update_by_key(session, Thread, rows)


def _update_by_key(session: Session, model, rows: list[dict]) -> None:
    """One executemany UPDATE by id, and the same values in loaded objects."""
    if not rows:
        return
    table = model.__table__
    names = [name for name in rows[0] if name != "key"]
    statement = (
        table.update()
        .where(table.c.id == bindparam("key"))
        .values({name: bindparam(name) for name in names})
    )
    session.execute(statement, rows)

    # A Core update leaves loaded objects as they were, and the caller's session
    # may hold the messages it has just inserted.
    for row in rows:
        loaded = session.identity_map.get(session.identity_key(model, row["key"]))
        if loaded is not None:
            for name in names:
                set_committed_value(loaded, name, row[name])

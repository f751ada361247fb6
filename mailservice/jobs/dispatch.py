"""Enqueueing jobs only once the database transaction that made their rows commits.

A job sent before the commit could run before its row is visible, or for a row
a rollback removes; one sent after a commit that then fails to reach the broker
is found again by the sweeper, because the row waits as `queued`.
"""

from __future__ import annotations

import logging

import dramatiq
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_KEY = "mailservice_jobs_after_commit"


def enqueue_after_commit(
    session: Session,
    actor: dramatiq.Actor,
    *args,
    delay_ms: int | None = None,
    group: object = None,
    group_size: int = 1,
) -> None:
    """Send `actor(*args)` when `session` commits; forget it if it rolls back.

    Jobs given the same `group` in one transaction are sent one per `group_size`
    (the first of each run): for jobs that each take care of that many rows, such
    as a delivery batch, the others would only find their rows taken.
    """
    if _KEY not in session.info:
        session.info[_KEY] = []
        event.listen(session, "after_commit", _send_pending)
        event.listen(session, "after_rollback", _drop_pending)
    session.info[_KEY].append((actor, args, delay_ms, group, max(group_size, 1)))


def _thinned(pending: list) -> list:
    seen: dict[tuple, int] = {}
    kept = []
    for actor, args, delay_ms, group, size in pending:
        if group is not None:
            key = (actor.actor_name, group)
            seen[key] = seen.get(key, -1) + 1
            if seen[key] % size:
                continue
        kept.append((actor, args, delay_ms))
    return kept


def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # SQLAlchemy signals a released savepoint too; wait for the commit
    pending, session.info[_KEY] = session.info[_KEY], []
    for actor, args, delay_ms in _thinned(pending):
        try:
            actor.send_with_options(args=args, delay=delay_ms)
        except Exception:
            # The row is committed: the sweeper dispatches it when the broker is back.
            log.exception(
                "could not enqueue %s%r; the sweeper will", actor.actor_name, args
            )


def _drop_pending(session: Session) -> None:
    session.info[_KEY] = []

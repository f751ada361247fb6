"""Claiming due messages of an account for one worker, within its rate limits.

The claim transaction first UPDATEs the account's SendingPolicy row. That takes
a row lock on PostgreSQL and the write lock on SQLite, so claimers of one account
take turns on every machine, and the count of recent attempts they read cannot
change under them: the per-minute and per-hour limits hold across all workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.outbound.models import (
    DEFERRED,
    QUEUED,
    SENDING,
    OutgoingMessage,
    SendingPolicy,
)

log = logging.getLogger(__name__)

WINDOWS = ((timedelta(minutes=1), "per_minute"), (timedelta(hours=1), "per_hour"))


@dataclass
class Claim:
    """The rows a worker now owns, or how long to wait when a limit is reached."""

    ids: list[int]
    wait_seconds: float | None = None
    wake_job: bool = False  # this claimer is the one to schedule the wake-up


def due_condition(now: datetime):
    """Rows ready to send: queued, or deferred whose retry time has come."""
    return or_(
        OutgoingMessage.state == QUEUED,
        and_(OutgoingMessage.state == DEFERRED, OutgoingMessage.next_attempt_at <= now),
    )


def lock_policy(session: Session, account_id: int) -> SendingPolicy:
    """The account's policy row, locked for this transaction (created if missing)."""
    now = utcnow()
    bump = (
        update(SendingPolicy)
        .where(SendingPolicy.account_id == account_id)
        .values(claim_count=SendingPolicy.claim_count + 1, last_claim_at=now)
    )
    if session.execute(bump).rowcount == 0:
        try:
            with session.begin_nested():
                session.add(SendingPolicy(account_id=account_id, last_claim_at=now))
        except IntegrityError:
            pass  # another worker created it a moment ago
        session.execute(bump)
    return session.get(SendingPolicy, account_id, populate_existing=True)


def _budget(session, settings, policy, now) -> tuple[int, float | None]:
    budget, wait = settings.send_batch_size, None
    for window, name in WINDOWS:
        limit = getattr(policy, name) or getattr(settings, f"send_{name}")
        since = now - window
        used, oldest = session.execute(
            select(func.count(), func.min(OutgoingMessage.last_attempt_at)).where(
                OutgoingMessage.account_id == policy.account_id,
                OutgoingMessage.last_attempt_at >= since,
            )
        ).one()
        left = limit - used
        if left <= 0:
            frees_at = (oldest or now) + window
            wait = max(wait or 0.0, (frees_at - now).total_seconds(), 0.05)
        budget = min(budget, max(left, 0))
    return budget, wait


def claim_batch(
    session: Session,
    settings: Settings,
    account_id: int,
    worker: str,
    first_id: int | None = None,
) -> Claim:
    """Mark up to a batch of the account's due rows `sending` for `worker`; commit."""
    now = utcnow()
    policy = lock_policy(session, account_id)
    budget, wait = _budget(session, settings, policy, now)
    if budget <= 0:
        wake_job = policy.wake_at is None or policy.wake_at <= now
        if wake_job:
            policy.wake_at = now + timedelta(seconds=wait or 1.0)
        session.commit()
        log.debug("rate limit reached account=%s wait=%.1fs", account_id, wait or 0)
        return Claim([], wait, wake_job)

    order = [OutgoingMessage.id]
    if first_id is not None:
        order.insert(0, (OutgoingMessage.id == first_id).desc())
    ids = list(
        session.scalars(
            select(OutgoingMessage.id)
            .where(OutgoingMessage.account_id == account_id, due_condition(now))
            .order_by(*order)
            .limit(budget)
        )
    )
    if ids:
        session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id.in_(ids))
            .values(
                state=SENDING, claimed_by=worker, claimed_at=now, last_attempt_at=now
            )
            .execution_options(synchronize_session=False)
        )
    session.commit()
    if ids:
        log.debug("claimed account=%s worker=%s ids=%s", account_id, worker, ids)
    return Claim(ids)


def release_stranded(session: Session, settings: Settings) -> list[int]:
    """Rows left `sending` by a worker that died: back to `queued`, their ids.

    One of them may have been accepted by the server just before the crash; it
    is sent again with the same bytes and Message-ID (the one duplicate allowed).
    """
    cutoff = utcnow() - timedelta(seconds=settings.send_stranded_seconds)
    ids = list(
        session.scalars(
            select(OutgoingMessage.id).where(
                OutgoingMessage.state == SENDING, OutgoingMessage.claimed_at < cutoff
            )
        )
    )
    if ids:
        session.execute(
            update(OutgoingMessage)
            .where(OutgoingMessage.id.in_(ids), OutgoingMessage.state == SENDING)
            .values(state=QUEUED, claimed_by=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        log.warning("released %d stranded messages: %s", len(ids), ids[:20])
    return ids

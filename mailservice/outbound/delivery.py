"""Delivering claimed messages over one reused SMTP connection, one commit each.

Exactly once: a row is `sending` (committed) before its SMTP transaction and
`sent` (committed) right after the server's 250. Only a crash between those two
commits leaves a sent message `sending`; the sweeper then queues it again and it
goes out a second time with the same bytes and Message-ID. No other row can be
sent twice, because every other row of the batch is either committed `sent` or
was never handed to the server.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.db.session import session_factory
from mailservice.errors import SmtpPermanentError, SmtpTemporaryError
from mailservice.outbound.claims import claim_batch, due_condition
from mailservice.outbound.models import (
    ACCEPTED,
    DEFERRED,
    FAILED,
    PENDING,
    QUEUED,
    REFUSED,
    SENDING,
    SENT,
    OutgoingAlias,
    OutgoingMessage,
    OutgoingRecipient,
)
from mailservice.outbound.smtp import Outcome, SmtpConnection
from mailservice.outbound.spool import Spool

log = logging.getLogger(__name__)

_CODE = re.compile(r"\b([245]\d\d)\b")
MAX_BACKOFF_SECONDS = 3600.0


@dataclass
class BatchResult:
    """What one delivery run did, for the job to decide what comes next."""

    account_id: int | None = None
    claimed: int = 0
    sent: list[int] = field(default_factory=list)
    deferred: dict[int, float] = field(default_factory=dict)  # id -> delay seconds
    failed: list[int] = field(default_factory=list)
    wait_seconds: float | None = None
    wake_job: bool = False
    full_batch: bool = False


def worker_name() -> str:
    """Who claims: host, process and thread, so a stranded claim can be traced."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def deliver(
    settings: Settings, *, outgoing_id: int | None = None, account_id: int | None = None
) -> BatchResult:
    """Claim a batch (with `outgoing_id` first, if still due) and send it."""
    factory = session_factory(settings.effective_database_url)
    worker = worker_name()
    result = BatchResult(account_id=account_id)
    with factory() as session:
        if outgoing_id is not None:
            result.account_id = _due_account(session, outgoing_id)
        if result.account_id is None:
            return result
        claim = claim_batch(session, settings, result.account_id, worker, outgoing_id)
        account = session.get(Account, result.account_id)
    result.claimed, result.wait_seconds = len(claim.ids), claim.wait_seconds
    result.wake_job = claim.wake_job
    result.full_batch = len(claim.ids) >= settings.send_batch_size
    if claim.ids:
        _send_batch(factory, settings, account, claim.ids, worker, result)
    return result


def _due_account(session: Session, outgoing_id: int) -> int | None:
    # A cheap check first: most jobs find their row already taken by a batch.
    return session.scalar(
        select(OutgoingMessage.account_id).where(
            OutgoingMessage.id == outgoing_id, due_condition(utcnow())
        )
    )


def _send_batch(factory, settings, account, ids, worker, result) -> None:
    connection = SmtpConnection(account, settings)
    spool = Spool(settings.outbox_dir)
    down: str | None = None  # set when the server cannot be reached at all
    # The sweeper takes back claims older than send_stranded_seconds; a batch
    # stops well before that, so no row of it can be sent by two workers.
    deadline = time.monotonic() + settings.send_stranded_seconds * 0.5
    # One connection held for the batch (a pooled session would check one out,
    # and ping it, after every commit), in autocommit: the UPDATE that marks a
    # message sent is its own transaction, one round trip, durable at once.
    with (
        factory.kw["bind"].connect() as database,
        Session(
            bind=database.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
        ) as session,
    ):
        rows = _load(session, ids, worker)
        try:
            for index, row in enumerate(rows):
                if time.monotonic() > deadline:
                    _release(session, [r.id for r in rows[index:]])
                    break
                down = _send_one(
                    session, settings, connection, spool, row, down, result
                )
                session.commit()
        finally:
            connection.close()
        accept_recipients(session, result.sent)
        session.commit()
    log.info(
        "batch account=%s claimed=%d sent=%d deferred=%d failed=%d",
        account.name,
        len(ids),
        len(result.sent),
        len(result.deferred),
        len(result.failed),
    )


def _release(session: Session, ids: list[int]) -> None:
    session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.id.in_(ids), OutgoingMessage.state == SENDING)
        .values(state=QUEUED, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    log.info(
        "batch stopped before its claim could go stale; %d rows queued again", len(ids)
    )


def accept_recipients(session: Session, sent_ids: list[int]) -> None:
    """Mark the still-pending recipients of sent rows accepted (one statement).

    A sent row is never retried, so this only records what the server said; the
    delivery loop leaves it to the end of the batch to save a statement per message.
    """
    if sent_ids:
        session.execute(
            update(OutgoingRecipient)
            .where(
                OutgoingRecipient.outgoing_id.in_(sent_ids),
                OutgoingRecipient.status == PENDING,
            )
            .values(status=ACCEPTED)
            .execution_options(synchronize_session=False)
        )


def _load(session: Session, ids: list[int], worker: str) -> list[OutgoingMessage]:
    rows = session.scalars(
        select(OutgoingMessage)
        .where(
            OutgoingMessage.id.in_(ids),
            OutgoingMessage.state == SENDING,
            OutgoingMessage.claimed_by == worker,
        )
        .options(selectinload(OutgoingMessage.recipients))
    ).all()
    position = {outgoing_id: index for index, outgoing_id in enumerate(ids)}
    return sorted(rows, key=lambda row: position[row.id])


def _send_one(session, settings, connection, spool, row, down, result) -> str | None:
    if down is not None:
        _defer(settings, row, down, result, count_attempt=False)
        return down
    if not connection.is_open:
        try:
            connection.open()
        except SmtpTemporaryError as exc:
            _defer(settings, row, str(exc), result)
            return str(exc)
        except SmtpPermanentError as exc:
            _fail(row, str(exc), result)
            return None

    pending = [r for r in row.recipients if r.status == PENDING]
    try:
        raw = spool.read_message(row.spool_name)
        outcome = connection.send(row.from_address, [r.address for r in pending], raw)
    except SmtpTemporaryError as exc:
        _defer(settings, row, str(exc), result)
    except SmtpPermanentError as exc:
        _fail(row, str(exc), result)
    except OSError as exc:
        _fail(row, f"the spooled message cannot be read: {exc}", result)
    else:
        _apply(session, settings, row, pending, outcome, result)
    return None


def _apply(session, settings, row, pending, outcome: Outcome, result) -> None:
    if _all_accepted(pending, outcome):
        _mark_sent_quickly(session, row, outcome, result)
        return
    for recipient in pending:
        address = recipient.address
        if address in outcome.accepted:
            recipient.status, recipient.smtp_reply = ACCEPTED, outcome.accepted[address]
        elif address in outcome.refused:
            recipient.status, recipient.smtp_reply = REFUSED, outcome.refused[address]
        elif address in outcome.deferred:
            recipient.smtp_reply = outcome.deferred[address]
    _note_provider_id(session, row, outcome.provider_id)

    refused = "; ".join(f"{a}: {r}" for a, r in outcome.refused.items())
    if outcome.deferred:
        waiting = "; ".join(f"{a}: {r}" for a, r in outcome.deferred.items())
        _defer(settings, row, f"recipients deferred: {waiting}", result)
    elif outcome.accepted or any(r.status == ACCEPTED for r in row.recipients):
        row.state, row.sent_at, row.smtp_code = SENT, utcnow(), 250
        row.last_error = f"some recipients refused: {refused}" if refused else None
        row.claimed_by = None
        result.sent.append(row.id)
        log.debug(
            "sent outgoing=%s account=%s reply=%r",
            row.id,
            row.account_id,
            outcome.data_reply,
        )
    else:
        _fail(row, f"every recipient was refused: {refused}", result)


def _all_accepted(pending, outcome: Outcome) -> bool:
    return (
        not outcome.refused
        and not outcome.deferred
        and len(outcome.accepted) == len(pending)
    )


def _mark_sent_quickly(session, row, outcome: Outcome, result) -> None:
    # The common case, in one plain UPDATE (the recipients are marked accepted at
    # the end of the batch): the unit of work's bookkeeping for the same change
    # costs more than the SMTP transaction it records.
    now = utcnow()
    values = dict(
        state=SENT, sent_at=now, smtp_code=250, last_error=None, claimed_by=None
    )
    quick = {"synchronize_session": False}
    session.execute(
        update(OutgoingMessage)
        .where(OutgoingMessage.id == row.id)
        .values(**values)
        .execution_options(**quick)
    )
    for name, value in values.items():
        set_committed_value(row, name, value)
    _note_provider_id(session, row, outcome.provider_id)
    result.sent.append(row.id)
    log.debug(
        "sent outgoing=%s account=%s reply=%r",
        row.id,
        row.account_id,
        outcome.data_reply,
    )


def _note_provider_id(session, row, provider_id: str | None) -> None:
    if not provider_id or provider_id == row.message_id_header:
        return
    known = session.scalar(
        select(OutgoingAlias.id).where(OutgoingAlias.message_id_header == provider_id)
    )
    if known is None:
        session.add(OutgoingAlias(outgoing_id=row.id, message_id_header=provider_id))
        log.info("provider gave outgoing=%s the Message-ID %s", row.id, provider_id)


def _defer(settings, row, reason: str, result, count_attempt: bool = True) -> None:
    now = utcnow()
    if count_attempt:
        row.attempts += 1
    age = now - (row.queued_at or now)
    if age > timedelta(hours=settings.send_max_age_hours):
        _fail(row, f"gave up after {row.attempts} attempts in {age}: {reason}", result)
        return
    delay = min(
        settings.send_retry_base_seconds * 2 ** max(row.attempts - 1, 0),
        MAX_BACKOFF_SECONDS,
    )
    row.state, row.next_attempt_at = DEFERRED, now + timedelta(seconds=delay)
    row.last_error, row.smtp_code = reason, _code(reason)
    row.claimed_by = None
    result.deferred[row.id] = delay
    log.warning(
        "deferred outgoing=%s attempt=%d retry in %.0fs: %s",
        row.id,
        row.attempts,
        delay,
        reason,
    )


def _fail(row, reason: str, result) -> None:
    row.attempts += 1
    row.state, row.last_error, row.smtp_code = FAILED, reason, _code(reason)
    row.claimed_by = None
    result.failed.append(row.id)
    log.warning("failed outgoing=%s account=%s: %s", row.id, row.account_id, reason)


def _code(reason: str) -> int | None:
    match = _CODE.search(reason)
    return int(match.group(1)) if match else None

"""The sweeper: puts back what a crashed worker or a lost broker left behind.

It releases rows stranded in `sending`, enqueues accounts whose due rows have
waited too long (their job was lost with a broker restart), and finishes sent
rows whose Message row or Sent-folder copy is missing. Running it twice at
once is harmless: every step is a claim or an idempotent check.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.db.session import session_factory
from mailservice.messages.models import Message
from mailservice.outbound.claims import due_condition, release_stranded
from mailservice.outbound.delivery import accept_recipients
from mailservice.outbound.models import QUEUED, SENT, OutgoingMessage, ReturnScan
from mailservice.outbound.returns import scan_new_messages
from mailservice.outbound.sentcopy import append_sent_copies
from mailservice.outbound.sentrecord import record_sent_messages

log = logging.getLogger(__name__)

MAX_JOBS_PER_ACCOUNT = 4
FINISH_GRACE_SECONDS = 10.0


@dataclass
class SweepReport:
    """What a sweep did."""

    released: list[int] = field(default_factory=list)
    dispatched: dict[int, int] = field(default_factory=dict)  # account -> jobs
    recorded: int = 0
    appended: int = 0
    returns: int = 0  # bounces and replies tied to our mail


def sweep(settings: Settings, *, waited_seconds: float = 30.0) -> SweepReport:
    """One pass; `waited_seconds=0` re-dispatches everything due (at start-up)."""
    from mailservice.outbound.jobs import deliver_account

    factory = session_factory(settings.effective_database_url)
    report = SweepReport()
    with factory() as session:
        report.released = release_stranded(session, settings)
        session.commit()
        report.dispatched = _waiting_accounts(session, settings, waited_seconds)
    for account_id, jobs in report.dispatched.items():
        for _ in range(jobs):
            deliver_account.send(account_id)
    report.recorded, report.appended = finish_sent(settings)
    report.returns = scan_returns(settings)
    from mailservice.mailings.running import sweep_mailings  # mailings ride along

    sweep_mailings(settings, redispatch_all=waited_seconds == 0)
    if report.released or report.dispatched or report.recorded or report.appended:
        log.info(
            "sweep: released=%d dispatched=%s recorded=%d appended=%d returns=%d",
            len(report.released),
            report.dispatched,
            report.recorded,
            report.appended,
            report.returns,
        )
    return report


def scan_returns(settings: Settings, max_batches: int = 20) -> int:
    """Look at newly synced messages for bounces and replies to our mail."""
    factory = session_factory(settings.effective_database_url)
    found = 0
    for _ in range(max_batches):
        with factory() as session:
            before = session.scalar(select(func.max(Message.id))) or 0
            found += scan_new_messages(session, settings)
            scanned_to = session.get(ReturnScan, 1).last_message_id
            session.commit()
        if scanned_to >= before:
            break
    return found


def _waiting_accounts(session: Session, settings: Settings, waited: float) -> dict:
    now = utcnow()
    cutoff = now - timedelta(seconds=waited)
    rows = session.execute(
        select(OutgoingMessage.account_id, func.count())
        .where(
            due_condition(now),
            or_(
                (OutgoingMessage.state == QUEUED)
                & (OutgoingMessage.queued_at <= cutoff),
                OutgoingMessage.next_attempt_at <= cutoff,
            ),
        )
        .group_by(OutgoingMessage.account_id)
    ).all()
    batch = max(settings.send_batch_size, 1)
    return {
        account: min(MAX_JOBS_PER_ACCOUNT, count // batch + 1)
        for account, count in rows
    }


def finish_sent(settings: Settings, ids: list[int] | None = None) -> tuple[int, int]:
    """Record Message rows and append Sent copies for sent rows lacking them."""
    factory = session_factory(settings.effective_database_url)
    recorded = appended = 0
    with factory() as session:
        rows = _sent_rows(session, settings, ids, OutgoingMessage.message_row_id)
        if rows:
            accept_recipients(session, [row.id for row in rows])
            recorded = record_sent_messages(session, settings, rows)
        session.commit()
    with factory() as session:
        rows = _sent_rows(session, settings, ids, None)
        by_account: dict[int, list[OutgoingMessage]] = {}
        for row in rows:
            if not row.sent_copy_appended:
                by_account.setdefault(row.account_id, []).append(row)
        for account_id, account_rows in by_account.items():
            appended += _append(session, settings, account_id, account_rows)
    return recorded, appended


def _sent_rows(session, settings, ids, missing_column) -> list[OutgoingMessage]:
    query = (
        select(OutgoingMessage)
        .where(OutgoingMessage.state == SENT)
        .options(
            selectinload(OutgoingMessage.recipients),
            selectinload(OutgoingMessage.attachments),
        )
    )
    if ids is not None:
        query = query.where(OutgoingMessage.id.in_(ids))
    else:
        # Rows sent in the last moments are still being finished by their job.
        now = utcnow()
        since = now - timedelta(hours=settings.send_max_age_hours)
        until = now - timedelta(seconds=FINISH_GRACE_SECONDS)
        query = query.where(OutgoingMessage.sent_at.between(since, until))
    if missing_column is not None:
        query = query.where(missing_column.is_(None))
    else:
        query = query.where(OutgoingMessage.sent_copy_appended.is_(False))
    return list(session.scalars(query.order_by(OutgoingMessage.id)))


def _append(session, settings, account_id: int, rows) -> int:
    account = session.get(Account, account_id)
    try:
        done = append_sent_copies(session, settings, account, rows)
    except Exception as exc:  # IMAP down: the copies wait for the next sweep
        log.warning("sent copies not appended account=%s: %s", account.name, exc)
        session.commit()
        return 0
    session.commit()
    return done

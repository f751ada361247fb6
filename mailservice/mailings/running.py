"""Starting, pausing, resuming and cancelling a mailing, and seeing it finish.

Starting is safe to repeat: a draft becomes `running` once (its filter read,
its blocked recipients marked skipped), and every later start only hands the
waiting recipients to the workers again. A paused mailing's queued messages are
held in the outbox (deferred until a far date), and released on resume. The
scheduler's sweep frees claims of dead workers, re-dispatches recipients whose
job was lost, and marks mailings finished once every message is sent or has
failed for good.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.db.session import session_factory
from mailservice.errors import MailingError, TemplateValidationError
from mailservice.jobs.dispatch import enqueue_after_commit
from mailservice.mailings.models import (
    CANCELLED,
    DRAFT,
    FINISHED,
    PAUSED,
    PENDING,
    RENDERING,
    RUNNING,
    Mailing,
    MailingRecipient,
)
from mailservice.mailings.problems import skip_blocked, template_problems
from mailservice.mailings.recipients import (
    get_mailing,
    lock_mailing,
    refresh_recipients,
)
from mailservice.outbound.claims import lock_policy
from mailservice.outbound.models import (
    DEFERRED,
    FAILED,
    QUEUED,
    SENDING,
    OutgoingMessage,
)

log = logging.getLogger(__name__)

# Held messages wait "deferred" until this date, which no retry ever reaches.
HELD_UNTIL = datetime(9999, 1, 1, tzinfo=UTC)
HELD_REASON = "held: the mailing is paused"
CANCELLED_REASON = "not sent: the mailing was cancelled"
UNSETTLED = (QUEUED, SENDING, DEFERRED)


def start_mailing(session: Session, settings: Settings, mailing_id: int) -> int:
    """Start a draft (or nudge a running mailing); how many recipients wait."""
    mailing = get_mailing(session, mailing_id)
    if mailing.state == DRAFT:
        _begin(session, settings, mailing)
    elif mailing.state not in (RUNNING,):
        raise MailingError(f"mailing {mailing_id} is {mailing.state}; it cannot start")
    return dispatch_pending(session, settings, mailing_id)


def _begin(session: Session, settings: Settings, mailing: Mailing) -> None:
    problems = template_problems(mailing)
    if problems:
        raise TemplateValidationError(problems)
    if not lock_mailing(session, mailing.id, DRAFT):
        return  # started by someone else a moment ago
    refresh_recipients(session, mailing)
    skip_blocked(session, mailing)
    mailing.state, mailing.started_at = RUNNING, utcnow()
    session.commit()
    log.info("mailing=%s started", mailing.id)


def dispatch_pending(
    session: Session,
    settings: Settings,
    mailing_id: int,
    waited_before: datetime | None = None,
) -> int:
    """Send render jobs for waiting recipients (only those dispatched before
    `waited_before`, when given); commits; how many recipients."""
    from mailservice.mailings.jobs import render_mailing_chunk

    # The mailing row first, as every writer of its recipients takes it: the
    # same order everywhere, so no two of them wait on each other.
    if not lock_mailing(session, mailing_id, RUNNING):
        session.commit()
        return 0
    query = select(MailingRecipient.id).where(
        MailingRecipient.mailing_id == mailing_id, MailingRecipient.state == PENDING
    )
    if waited_before is not None:
        query = query.where(
            (MailingRecipient.dispatched_at.is_(None))
            | (MailingRecipient.dispatched_at < waited_before)
        )
    ids = list(session.scalars(query.order_by(MailingRecipient.position)))
    size = max(settings.mailing_chunk_size, 1)
    now = utcnow()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        session.execute(
            update(MailingRecipient)
            .where(MailingRecipient.id.in_(chunk))
            .values(dispatched_at=now)
            .execution_options(synchronize_session=False)
        )
        enqueue_after_commit(session, render_mailing_chunk, mailing_id, chunk)
    session.commit()
    if ids:
        log.info(
            "mailing=%s dispatched %d recipients in %d jobs",
            mailing_id,
            len(ids),
            -(-len(ids) // size),
        )
    return len(ids)


def pause_mailing(session: Session, mailing_id: int) -> int:
    """Stop rendering and hold the queued messages; how many were held."""
    mailing = get_mailing(session, mailing_id)
    if not lock_mailing(session, mailing_id, RUNNING):
        raise MailingError(f"mailing {mailing_id} is {mailing.state}, not running")
    lock_policy(session, mailing.account_id)  # claimers wait: none takes a held row
    held = session.execute(
        update(OutgoingMessage)
        .where(
            OutgoingMessage.id.in_(_outgoing_ids(mailing_id)),
            OutgoingMessage.state.in_((QUEUED, DEFERRED)),
        )
        .values(state=DEFERRED, next_attempt_at=HELD_UNTIL, last_error=HELD_REASON)
        .execution_options(synchronize_session=False)
    ).rowcount
    _set_state(session, mailing_id, PAUSED)
    session.commit()
    log.info("mailing=%s paused, %d messages held", mailing_id, held)
    return held


def resume_mailing(session: Session, settings: Settings, mailing_id: int) -> int:
    """Release the held messages and render the rest; how many were released."""
    from mailservice.outbound.jobs import deliver_account

    mailing = get_mailing(session, mailing_id)
    if not lock_mailing(session, mailing_id, PAUSED):
        raise MailingError(f"mailing {mailing_id} is {mailing.state}, not paused")
    released = session.execute(
        update(OutgoingMessage)
        .where(
            OutgoingMessage.id.in_(_outgoing_ids(mailing_id)),
            OutgoingMessage.state == DEFERRED,
            OutgoingMessage.next_attempt_at >= HELD_UNTIL,
        )
        .values(next_attempt_at=utcnow(), last_error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    _set_state(session, mailing_id, RUNNING)
    batch = max(settings.send_batch_size, 1)
    for _ in range(min(4, released // batch + 1) if released else 0):
        enqueue_after_commit(session, deliver_account, mailing.account_id)
    dispatch_pending(session, settings, mailing_id)  # commits
    log.info("mailing=%s resumed, %d messages released", mailing_id, released)
    return released


def cancel_mailing(session: Session, mailing_id: int) -> int:
    """Send nothing more: waiting recipients and queued messages are cancelled."""
    mailing = get_mailing(session, mailing_id)
    if not lock_mailing(session, mailing_id, DRAFT, RUNNING, PAUSED):
        raise MailingError(f"mailing {mailing_id} is {mailing.state} already")
    lock_policy(session, mailing.account_id)
    outgoing = session.execute(
        update(OutgoingMessage)
        .where(
            OutgoingMessage.id.in_(_outgoing_ids(mailing_id)),
            OutgoingMessage.state.in_((QUEUED, DEFERRED)),
        )
        .values(state=FAILED, last_error=CANCELLED_REASON)
        .execution_options(synchronize_session=False)
    ).rowcount
    recipients = session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing_id,
            MailingRecipient.state.in_((PENDING, RENDERING)),
        )
        .values(state=CANCELLED, claimed_by=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    _set_state(session, mailing_id, CANCELLED, finished=True)
    session.commit()
    log.info(
        "mailing=%s cancelled: %d waiting recipients, %d queued messages",
        mailing_id,
        recipients,
        outgoing,
    )
    return recipients + outgoing


def _outgoing_ids(mailing_id: int):
    return select(MailingRecipient.outgoing_id).where(
        MailingRecipient.mailing_id == mailing_id,
        MailingRecipient.outgoing_id.is_not(None),
    )


def _set_state(session: Session, mailing_id: int, state: str, finished: bool = False):
    values = {"state": state, "updated_at": utcnow()}
    if finished:
        values["finished_at"] = utcnow()
    session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def unsettled_count(session: Session, mailing_id: int) -> int:
    """Recipients still waiting to render, and messages still on their way."""
    waiting = (
        session.scalar(
            select(func.count()).where(
                MailingRecipient.mailing_id == mailing_id,
                MailingRecipient.state.in_((PENDING, RENDERING)),
            )
        )
        or 0
    )
    travelling = (
        session.scalar(
            select(func.count()).where(
                OutgoingMessage.id.in_(_outgoing_ids(mailing_id)),
                OutgoingMessage.state.in_(UNSETTLED),
            )
        )
        or 0
    )
    return waiting + travelling


def finish_if_done(session: Session, mailing_id: int) -> bool:
    """Mark a running mailing finished when nothing is left on its way; commits."""
    if unsettled_count(session, mailing_id):
        return False
    done = session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.state == RUNNING)
        .values(state=FINISHED, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if done:
        log.info("mailing=%s finished", mailing_id)
    return True


def sweep_mailings(settings: Settings, redispatch_all: bool = False) -> int:
    """Free dead workers' claims, re-dispatch lost jobs (all waiting recipients
    with `redispatch_all`, at a start-up), finish what is done; how many
    recipients were handed out again."""
    factory = session_factory(settings.effective_database_url)
    cutoff = utcnow() - timedelta(seconds=settings.mailing_stranded_seconds)
    again = 0
    with factory() as session:
        running = list(
            session.scalars(select(Mailing.id).where(Mailing.state == RUNNING))
        )
        for mailing_id in running:
            try:
                again += _sweep_one(
                    session, settings, mailing_id, cutoff, redispatch_all
                )
            except OperationalError as exc:  # a deadlock victim, a lock timeout
                session.rollback()
                log.warning(
                    "mailing=%s sweep put off to the next one: %s",
                    mailing_id,
                    exc.orig or exc,
                )
    return again


def _sweep_one(session, settings, mailing_id, cutoff, redispatch_all) -> int:
    if not lock_mailing(session, mailing_id, RUNNING):
        session.rollback()
        return 0
    freed = session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.mailing_id == mailing_id,
            MailingRecipient.state == RENDERING,
            MailingRecipient.claimed_at < cutoff,
        )
        .values(state=PENDING, claimed_by=None, claimed_at=None, dispatched_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if freed:
        log.warning("mailing=%s freed %d stranded claims", mailing_id, freed)
    again = 0
    if redispatch_all:
        again = dispatch_pending(session, settings, mailing_id)
    elif not _rendered_since(session, mailing_id, cutoff):
        # Jobs that are flowing will reach the rest; only a mailing with no
        # claim for a while has lost its jobs (a broker restart).
        again = dispatch_pending(session, settings, mailing_id, cutoff)
    session.commit()
    finish_if_done(session, mailing_id)
    return again


def _rendered_since(session: Session, mailing_id: int, since: datetime) -> bool:
    last = session.scalar(
        select(func.max(MailingRecipient.claimed_at)).where(
            MailingRecipient.mailing_id == mailing_id
        )
    )
    return last is not None and last >= since

"""A mailing's progress: counts per state, the sending rate, and the time left."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from mailservice.db.base import utcnow
from mailservice.mailings.models import (
    CANCELLED,
    FAILED,
    PENDING,
    QUEUED,
    RENDERING,
    SKIPPED,
    MailingRecipient,
)
from mailservice.mailings.recipients import get_mailing
from mailservice.mailings.running import CANCELLED_REASON, HELD_UNTIL
from mailservice.outbound.models import DEFERRED, SENT, OutgoingMessage

RATE_WINDOW = timedelta(minutes=1)
# The order states are shown in, from waiting to done.
STATES = (
    "waiting",
    "rendering",
    "queued",
    "sending",
    "deferred",
    "held",
    "sent",
    "failed",
    "skipped",
    "cancelled",
)
DONE = ("sent", "failed", "skipped", "cancelled")


@dataclass
class Progress:
    """Where a mailing stands."""

    mailing_id: int
    state: str
    total: int
    counts: dict[str, int] = field(default_factory=dict)
    per_second: float | None = None
    seconds_left: float | None = None

    @property
    def done(self) -> int:
        """Recipients whose outcome is final."""
        return sum(self.counts.get(state, 0) for state in DONE)

    def line(self) -> str:
        """One line for a terminal: the counts that are not zero, rate, time left."""
        parts = [
            f"{state} {self.counts[state]}"
            for state in STATES
            if self.counts.get(state)
        ]
        if self.per_second:
            parts.append(f"{self.per_second:.1f}/s")
        if self.seconds_left is not None:
            parts.append(f"{_duration(self.seconds_left)} left")
        return ", ".join(parts) or "nothing yet"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def mailing_progress(session: Session, mailing_id: int) -> Progress:
    """Counts per state, the sending rate of the last minute, the time left."""
    mailing = get_mailing(session, mailing_id)
    counts = dict.fromkeys(STATES, 0)
    recipient_states = {
        PENDING: "waiting",
        RENDERING: "rendering",
        FAILED: "failed",
        SKIPPED: "skipped",
        CANCELLED: "cancelled",
    }
    for state, count in session.execute(
        select(MailingRecipient.state, func.count())
        .where(MailingRecipient.mailing_id == mailing_id)
        .group_by(MailingRecipient.state)
    ):
        if state in recipient_states:
            counts[recipient_states[state]] += count
    for state, count in _message_states(session, mailing_id):
        counts[state] += count

    progress = Progress(mailing_id, mailing.state, sum(counts.values()), counts)
    _rate(session, mailing_id, progress)
    return progress


def _message_states(session: Session, mailing_id: int):
    held = (OutgoingMessage.state == DEFERRED) & (
        OutgoingMessage.next_attempt_at >= HELD_UNTIL
    )
    cancelled = OutgoingMessage.last_error == CANCELLED_REASON
    shown = case((held, "held"), (cancelled, "cancelled"), else_=OutgoingMessage.state)
    return session.execute(
        select(shown, func.count())
        .select_from(MailingRecipient)
        .join(OutgoingMessage, OutgoingMessage.id == MailingRecipient.outgoing_id)
        .where(
            MailingRecipient.mailing_id == mailing_id, MailingRecipient.state == QUEUED
        )
        .group_by(shown)
    ).all()


def _rate(session: Session, mailing_id: int, progress: Progress) -> None:
    now = utcnow()
    since = now - RATE_WINDOW
    recent, first = session.execute(
        select(func.count(), func.min(OutgoingMessage.sent_at))
        .select_from(MailingRecipient)
        .join(OutgoingMessage, OutgoingMessage.id == MailingRecipient.outgoing_id)
        .where(
            MailingRecipient.mailing_id == mailing_id,
            OutgoingMessage.state == SENT,
            OutgoingMessage.sent_at >= since,
        )
    ).one()
    if not recent or first is None:
        return
    window = max((now - first).total_seconds(), 1.0)
    progress.per_second = recent / window
    left = progress.total - progress.done
    progress.seconds_left = left / progress.per_second if left else 0.0

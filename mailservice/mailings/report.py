"""A mailing's report: each recipient's outcome (sent, failed with the reason,
bounced, replied), exported as CSV, and a new mailing made of its failures."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.errors import MailingError
from mailservice.mailings.models import (
    CANCELLED,
    FAILED,
    SKIPPED,
    UNSUBSCRIBED,
    MailingRecipient,
    MailingUpload,
)
from mailservice.mailings.recipients import get_mailing, refresh_recipients
from mailservice.mailings.running import CANCELLED_REASON, HELD_UNTIL
from mailservice.messages.models import Message, MessageReference
from mailservice.outbound.bounces import HARD
from mailservice.outbound.models import (
    DEFERRED,
    SENT,
    OutgoingMessage,
    OutgoingRecipient,
)
from mailservice.outbound.models import (
    FAILED as MESSAGE_FAILED,
)

log = logging.getLogger(__name__)

BATCH = 500
OUTCOMES = ("sent", "bounced", "failed", "skipped", "cancelled", "waiting", "held")
CSV_COLUMNS = (
    "position",
    "name",
    "address",
    "contact_id",
    "outcome",
    "reason",
    "sent_at",
    "bounce",
    "replied_at",
    "message_id",
)


@dataclass
class ReportRow:
    """One recipient's outcome."""

    position: int
    name: str | None
    address: str | None
    contact_id: int | None
    outcome: str
    reason: str | None = None
    sent_at: datetime | None = None
    bounce: str | None = None
    replied_at: datetime | None = None
    message_id: str | None = None


def report_rows(session: Session, mailing_id: int) -> Iterator[ReportRow]:
    """Every recipient's outcome in list order, read a batch at a time."""
    get_mailing(session, mailing_id)
    last = 0
    while True:
        batch = session.execute(
            select(MailingRecipient, OutgoingMessage)
            .outerjoin(
                OutgoingMessage, OutgoingMessage.id == MailingRecipient.outgoing_id
            )
            .where(
                MailingRecipient.mailing_id == mailing_id,
                MailingRecipient.position > last,
            )
            .order_by(MailingRecipient.position)
            .limit(BATCH)
        ).all()
        if not batch:
            return
        bounces = _bounces(session, [m.id for _r, m in batch if m is not None])
        replies = _replies(session, [m.message_id_header for _r, m in batch if m])
        for recipient, message in batch:
            yield _row(recipient, message, bounces, replies)
        last = batch[-1][0].position


def _row(recipient, message, bounces, replies) -> ReportRow:
    row = ReportRow(
        recipient.position,
        recipient.name,
        recipient.address,
        recipient.contact_id,
        "waiting",
        recipient.error,
    )
    if recipient.state in (SKIPPED, FAILED, CANCELLED):
        row.outcome = recipient.state
        return row
    if message is None:
        return row
    row.message_id, row.sent_at = message.message_id_header, message.sent_at
    row.bounce = bounces.get(message.id)
    row.replied_at = replies.get(message.message_id_header)
    if message.state == SENT:
        row.outcome = "bounced" if row.bounce == HARD else "sent"
        row.reason = message.last_error  # some recipients refused, if any
    elif message.state == MESSAGE_FAILED:
        cancelled = message.last_error == CANCELLED_REASON
        row.outcome, row.reason = (
            "cancelled" if cancelled else "failed",
            message.last_error,
        )
    elif message.state == DEFERRED and message.next_attempt_at >= HELD_UNTIL:
        row.outcome = "held"
    else:
        row.reason = message.last_error  # a temporary failure being retried
    return row


def _bounces(session: Session, outgoing_ids: list[int]) -> dict[int, str]:
    if not outgoing_ids:
        return {}
    found: dict[int, str] = {}
    for outgoing_id, kind in session.execute(
        select(OutgoingRecipient.outgoing_id, OutgoingRecipient.bounce).where(
            OutgoingRecipient.outgoing_id.in_(outgoing_ids),
            OutgoingRecipient.bounce.is_not(None),
        )
    ):
        if found.get(outgoing_id) != HARD:
            found[outgoing_id] = kind
    return found


def _replies(session: Session, message_ids: list[str]) -> dict[str, datetime]:
    # A reply names our Message-ID in In-Reply-To or References (RFC 5322 3.6.4);
    # the return scan adds that reference for replies that lost it.
    if not message_ids:
        return {}
    return dict(
        session.execute(
            select(MessageReference.referenced_id, func.min(Message.sent_at))
            .join(Message, Message.id == MessageReference.message_id)
            .where(
                MessageReference.referenced_id.in_(message_ids),
                Message.is_auto_reply.is_(False),
            )
            .group_by(MessageReference.referenced_id)
        ).all()
    )


def report_summary(session: Session, mailing_id: int) -> dict[str, int]:
    """How many recipients ended in each outcome, and how many replied."""
    summary = dict.fromkeys(OUTCOMES, 0)
    summary["replied"] = 0
    for row in report_rows(session, mailing_id):
        summary[row.outcome] += 1
        summary["replied"] += row.replied_at is not None
    return summary


def write_report_csv(session: Session, mailing_id: int, handle: TextIO) -> int:
    """Write the report as CSV (UTF-8, comma, header row); how many rows."""
    writer = csv.writer(handle)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in report_rows(session, mailing_id):
        writer.writerow(
            [
                row.position,
                row.name or "",
                row.address or "",
                row.contact_id or "",
                row.outcome,
                row.reason or "",
                row.sent_at.isoformat() if row.sent_at else "",
                row.bounce or "",
                row.replied_at.isoformat() if row.replied_at else "",
                row.message_id or "",
            ]
        )
        count += 1
    return count


def failed_recipients(session: Session, mailing_id: int) -> Iterator[MailingRecipient]:
    """The recipients a mailing did not reach: failed, bounced, or skipped for a
    problem that can be fixed (an unsubscribe is no failure)."""
    wanted = {
        row.position
        for row in report_rows(session, mailing_id)
        if row.outcome in ("failed", "bounced", "skipped")
    }
    last = 0
    while True:
        batch = list(
            session.scalars(
                select(MailingRecipient)
                .where(
                    MailingRecipient.mailing_id == mailing_id,
                    MailingRecipient.position > last,
                )
                .order_by(MailingRecipient.position)
                .limit(BATCH)
            )
        )
        if not batch:
            return
        for recipient in batch:
            if recipient.position in wanted and recipient.problem != UNSUBSCRIBED:
                yield recipient
        last = batch[-1].position


def mailing_from_failures(
    session: Session,
    settings: Settings,
    mailing_id: int,
    author_user_id: int | None = None,
):
    """A new draft with the same message for the recipients this one missed."""
    from mailservice.mailings.spec import create_mailing, spec_of

    old = get_mailing(session, mailing_id)
    spec = spec_of(session, old)
    spec.name = f"{old.name} (again: failures of {old.id})"
    spec.selection = {"failed_of": old.id}
    new = create_mailing(session, settings, spec, author_user_id or old.author_user_id)
    new.source_mailing_id = old.id
    _copy_uploads(session, old.id, new.id)
    added = refresh_recipients(session, new)
    if not added:
        raise MailingError(f"mailing {old.id} has no failed recipients")
    log.info("mailing=%s made from %d failures of mailing=%s", new.id, added, old.id)
    return new


def _copy_uploads(session: Session, old_id: int, new_id: int) -> None:
    for upload in session.scalars(
        select(MailingUpload).where(MailingUpload.mailing_id == old_id)
    ):
        session.add(
            MailingUpload(
                mailing_id=new_id,
                filename=upload.filename,
                content_type=upload.content_type,
                size=upload.size,
                sha256=upload.sha256,
            )
        )
    session.flush()

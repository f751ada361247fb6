"""What comes back for the mail we sent: bounces and replies, tied to their message.

Bounces mark the recipient and the address (soft or hard) and join the thread of
the message they return. A reply whose parent id is one a provider gave our
message (OutgoingAlias), or that names no known message at all but answers a
message we sent to its sender with the same subject, gets a reference to our
Message-ID, so the threader puts it in our thread. Auto-replies are flagged by
the header parser (Message.is_auto_reply) and thread like any reply.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.messages.models import Message, MessageReference
from mailservice.outbound.bounces import HARD, Bounce, read_bounce
from mailservice.outbound.models import (
    SENT,
    BouncingAddress,
    OutgoingAlias,
    OutgoingMessage,
    OutgoingRecipient,
    ReturnScan,
)
from mailservice.store.raw import RawStore
from mailservice.threads.subject import normalize_subject

log = logging.getLogger(__name__)

REPLY_WINDOW = timedelta(days=60)
SCAN_BATCH = 500
_BOUNCE_HINT = re.compile(
    r"mailer-daemon|postmaster|undeliver|delivery|failure|returned|niedostarcz|"
    r"nie mo[żz]na dostarczy",
    re.I,
)


def process_returns(
    session: Session, settings: Settings, message_ids: list[int]
) -> int:
    """Tie bounces and replies among these synced messages to our mail; how many."""
    from mailservice.threads.threader import thread_messages

    own = {a.lower() for a in session.scalars(select(Account.email)) if a}
    touched = []
    for message in session.scalars(select(Message).where(Message.id.in_(message_ids))):
        if (message.from_address or "").lower() in own:
            continue  # our own copies
        if _process_one(session, settings, message):
            touched.append(message.id)
    if touched:
        session.flush()
        thread_messages(session, settings, touched)
    return len(touched)


def _process_one(session: Session, settings: Settings, message: Message) -> bool:
    if _may_be_bounce(message):
        raw = RawStore(settings.effective_raw_store_dir).read(message.raw_sha256)
        bounce = read_bounce(raw)
        if bounce is not None:
            return _record_bounce(session, message, bounce)
    return _link_reply(session, message)


def _may_be_bounce(message: Message) -> bool:
    parts = (message.from_address, message.from_name, message.subject)
    text = " ".join(part or "" for part in parts)
    return message.is_auto_reply or bool(_BOUNCE_HINT.search(text))


def _refs(session: Session, message: Message) -> list[str]:
    return list(
        session.scalars(
            select(MessageReference.referenced_id).where(
                MessageReference.message_id == message.id
            )
        )
    )


def _outgoing_by_ids(session: Session, ids: list[str]) -> OutgoingMessage | None:
    if not ids:
        return None
    found = session.scalar(
        select(OutgoingMessage)
        .where(OutgoingMessage.message_id_header.in_(ids))
        .limit(1)
    )
    if found is not None:
        return found
    alias = session.scalar(
        select(OutgoingAlias).where(OutgoingAlias.message_id_header.in_(ids)).limit(1)
    )
    return session.get(OutgoingMessage, alias.outgoing_id) if alias else None


def _add_reference(
    session: Session, message: Message, outgoing: OutgoingMessage
) -> None:
    if outgoing.message_id_header not in _refs(session, message):
        session.add(
            MessageReference(
                message_id=message.id, referenced_id=outgoing.message_id_header
            )
        )


def _record_bounce(session: Session, message: Message, bounce: Bounce) -> bool:
    outgoing = _outgoing_by_ids(
        session, bounce.original_message_ids + _refs(session, message)
    )
    if outgoing is None:
        outgoing = _last_sent_to(session, list(bounce.recipients))
    message.is_auto_reply = True  # a report written by a machine
    for address, kind in bounce.recipients.items():
        _mark_address(session, address, kind, bounce.reasons.get(address), outgoing)
        if outgoing is not None:
            _mark_recipient(outgoing, address, kind, message.id)
    if outgoing is not None:
        _add_reference(session, message, outgoing)
    log.info(
        "bounce message=%s outgoing=%s recipients=%s",
        message.id,
        outgoing.id if outgoing else None,
        bounce.recipients,
    )
    return True


def _last_sent_to(session: Session, addresses: list[str]) -> OutgoingMessage | None:
    return session.scalar(
        select(OutgoingMessage)
        .join(OutgoingRecipient, OutgoingRecipient.outgoing_id == OutgoingMessage.id)
        .where(
            OutgoingRecipient.address_norm.in_(addresses), OutgoingMessage.state == SENT
        )
        .order_by(OutgoingMessage.sent_at.desc())
        .limit(1)
    )


def _mark_recipient(outgoing, address: str, kind: str, message_id: int) -> None:
    for recipient in outgoing.recipients:
        if recipient.address_norm == address:
            if recipient.bounce != HARD:
                recipient.bounce = kind
            recipient.bounce_message_id = message_id


def _mark_address(session, address: str, kind: str, reason, outgoing) -> None:
    row = session.scalar(
        select(BouncingAddress).where(BouncingAddress.address_norm == address)
    )
    if row is None:
        session.add(
            BouncingAddress(
                address_norm=address,
                kind=kind,
                reason=reason,
                last_outgoing_id=outgoing.id if outgoing else None,
            )
        )
        return
    row.count += 1
    row.kind = HARD if HARD in (row.kind, kind) else kind
    row.reason = reason or row.reason
    row.last_at = utcnow()
    row.last_outgoing_id = outgoing.id if outgoing else row.last_outgoing_id


def _link_reply(session: Session, message: Message) -> bool:
    refs = _refs(session, message)
    outgoing = _outgoing_by_ids(session, refs)
    if outgoing is not None:
        if outgoing.message_id_header in refs:
            return False  # threads by itself
        _add_reference(session, message, outgoing)
        log.info(
            "reply message=%s to outgoing=%s via provider id", message.id, outgoing.id
        )
        return True
    if refs and session.scalar(
        select(Message.id).where(Message.message_id_header.in_(refs)).limit(1)
    ):
        return False  # answers a message we know: the threader has it
    outgoing = _answered_by_subject(session, message)
    if outgoing is None:
        return False
    _add_reference(session, message, outgoing)
    log.info(
        "reply message=%s to outgoing=%s by sender and subject", message.id, outgoing.id
    )
    return True


def _answered_by_subject(session: Session, message: Message) -> OutgoingMessage | None:
    # The second way: the sender is someone we wrote to lately, and the subject
    # is ours after Re:/Odp:/AW: prefixes are removed.
    if not message.from_address or not message.normalized_subject:
        return None
    since = (message.sent_at or utcnow()) - REPLY_WINDOW
    candidates = session.scalars(
        select(OutgoingMessage)
        .join(OutgoingRecipient, OutgoingRecipient.outgoing_id == OutgoingMessage.id)
        .where(
            OutgoingRecipient.address_norm == message.from_address.lower(),
            OutgoingMessage.state == SENT,
            OutgoingMessage.sent_at >= since,
        )
        .order_by(OutgoingMessage.sent_at.desc())
    )
    for outgoing in candidates:
        if normalize_subject(outgoing.subject) == message.normalized_subject:
            return outgoing
    return None


def scan_new_messages(session: Session, settings: Settings) -> int:
    """Process messages synced since the last scan (the sweeper calls this)."""
    # Touch the row first: it locks it, so two sweepers never scan the same ids.
    touch = (
        update(ReturnScan)
        .where(ReturnScan.id == 1)
        .values(last_message_id=ReturnScan.last_message_id)
    )
    if session.execute(touch).rowcount == 0:
        session.add(ReturnScan(id=1, last_message_id=0))
        session.flush()
    scan = session.get(ReturnScan, 1, populate_existing=True)
    ids = list(
        session.scalars(
            select(Message.id)
            .where(Message.id > scan.last_message_id)
            .order_by(Message.id)
            .limit(SCAN_BATCH)
        )
    )
    if not ids:
        return 0
    found = process_returns(session, settings, ids)
    scan.last_message_id = ids[-1]
    return found

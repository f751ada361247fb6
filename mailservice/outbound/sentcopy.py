"""After sending: the message appears at once in its thread and the contact's
history (a Message row), and a copy goes to the account's Sent folder.

The Message row gets the same identity key the sync computes for the copy it
will find in Sent (Message-ID, Date and From), and the raw bytes go to the raw
store under the same hash, so the next sync of Sent links its location to this
row instead of adding a second message.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.config import Settings
from mailservice.messages.models import (
    HEADERS_ONLY,
    Message,
    MessageAddress,
    MessageReference,
)
from mailservice.outbound.models import OutgoingMessage, SendingPolicy
from mailservice.outbound.spool import Spool
from mailservice.parsing.headers import parse_headers
from mailservice.store.raw import RawStore
from mailservice.sync.identity import date_header, identity_key
from mailservice.threads.subject import normalize_subject

log = logging.getLogger(__name__)

SENT_ROLE = "sent"


def record_sent_message(
    session: Session, settings: Settings, outgoing: OutgoingMessage
) -> Message:
    """The Message row of a sent message, linked to contacts and threaded."""
    from mailservice.contacts.linking import link_messages
    from mailservice.threads.threader import thread_messages

    raw = Spool(settings.outbox_dir).read_message(outgoing.spool_name)
    sha256 = RawStore(settings.effective_raw_store_dir).put(raw)
    parsed = parse_headers(raw, outgoing.sent_at)
    sender = next((a.address for a in parsed.addresses if a.role == "from"),
                  outgoing.from_address)
    key = identity_key(outgoing.message_id_header, date_header(raw), sender)
    message = session.scalar(select(Message).where(Message.identity_key == key))
    if message is None:
        try:
            with session.begin_nested():
                message = _new_message(session, outgoing, parsed, raw, sha256, key)
        except IntegrityError:
            # Another worker (or the sweeper) recorded it a moment ago.
            message = session.scalar(select(Message).where(Message.identity_key == key))
        else:
            link_messages(session, settings, [message.id])
            thread_messages(session, settings, [message.id])
    outgoing.message_row_id = message.id
    log.info("sent message recorded outgoing=%s message=%s thread=%s", outgoing.id,
             message.id, message.thread_id)
    return message


def _new_message(session, outgoing, parsed, raw: bytes, sha256: str, key: str) -> Message:
    message = Message(
        identity_key=key, raw_sha256=sha256, size=len(raw),
        message_id_header=outgoing.message_id_header,
        in_reply_to=outgoing.in_reply_to.strip("<>") if outgoing.in_reply_to else None,
        subject=outgoing.subject, normalized_subject=normalize_subject(outgoing.subject),
        from_name=outgoing.from_name, from_address=outgoing.from_address,
        sent_at=parsed.sent_at or outgoing.sent_at, internal_date=outgoing.sent_at,
        has_attachments=bool(outgoing.attachments), is_auto_reply=False,
        parse_status=HEADERS_ONLY, body_html=outgoing.body_html,
        body_text=outgoing.body_text,
        snippet=" ".join((outgoing.body_text or "").split())[:300] or None,
    )
    session.add(message)
    session.flush()
    for address in parsed.addresses:
        norm = address.address.lower()
        session.add(MessageAddress(
            message_id=message.id, role=address.role, name=address.name,
            address=address.address, address_norm=norm, domain=norm.rpartition("@")[2],
        ))
    for recipient in outgoing.recipients:
        if recipient.role == "bcc":  # not in the headers, but in the history
            session.add(MessageAddress(
                message_id=message.id, role="bcc", name=recipient.name,
                address=recipient.address, address_norm=recipient.address_norm,
                domain=recipient.address_norm.rpartition("@")[2],
            ))
    for referenced in dict.fromkeys(parsed.references + [parsed.in_reply_to or ""]):
        if referenced and referenced != outgoing.message_id_header:
            session.add(MessageReference(message_id=message.id, referenced_id=referenced))
    session.flush()
    return message


def sent_folder(session: Session, account: Account) -> Folder | None:
    """The folder sent mail is filed in: the configured one, else role `sent`."""
    policy = session.get(SendingPolicy, account.id)
    query = select(Folder).where(Folder.account_id == account.id,
                                 Folder.deleted_at.is_(None))
    if policy is not None and policy.sent_folder:
        return session.scalar(query.where(Folder.wire_name == policy.sent_folder))
    return session.scalar(query.where(Folder.role == SENT_ROLE))


def append_sent_copies(
    session: Session, settings: Settings, account: Account, rows: list[OutgoingMessage]
) -> int:
    """IMAP APPEND each sent message to the Sent folder (\\Seen); how many went."""
    folder = sent_folder(session, account)
    wire_name = folder.wire_name if folder else settings.sent_folder
    if not wire_name:
        log.debug("account=%s has no Sent folder known yet; copies wait", account.name)
        return 0
    client = _imap_connect(account, settings)
    spool = Spool(settings.outbox_dir)
    done = 0
    try:
        for row in rows:
            raw = spool.read_message(row.spool_name)
            client.append(wire_name, raw, flags=[b"\\Seen"], msg_time=_aware(row.sent_at))
            row.sent_copy_appended = True
            done += 1
    finally:
        client.logout()
    log.info("appended %d sent copies account=%s folder=%s", done, account.name, wire_name)
    return done


def _aware(moment: datetime | None) -> datetime | None:
    return moment.astimezone() if moment else None


def _imap_connect(account: Account, settings: Settings):
    from mailservice.sync.imap import connect

    return connect(account, settings)

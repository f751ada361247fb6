"""The Message row of a sent message: it appears at once in its thread and in the
contact's history, before any sync of the Sent folder.

The row gets the identity key the sync computes for the copy it will find in Sent
(mailservice.sync.identity: Message-ID, Date and From), and the raw bytes go to
the raw store under the same hash, so that sync adds a location to this row
instead of a second message. Rows are recorded a batch at a time: linking and
threading cost the same for fifty messages as for one.
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.messages.models import (
    HEADERS_ONLY,
    Message,
    MessageAddress,
    MessageReference,
)
from mailservice.outbound.models import OutgoingMessage
from mailservice.outbound.spool import Spool
from mailservice.parsing.headers import parse_headers
from mailservice.store.raw import RawStore
from mailservice.sync.identity import body_digest, date_header, identity_key
from mailservice.threads.subject import normalize_subject

log = logging.getLogger(__name__)


def record_sent_messages(
    session: Session, settings: Settings, rows: list[OutgoingMessage]
) -> int:
    """Give sent rows their Message rows, linked to contacts and threaded; how many
    were new (a row another worker recorded meanwhile is only pointed at)."""
    from mailservice.contacts.linking import link_messages
    from mailservice.threads.threader import thread_messages

    prepared = [_prepare(settings, row) for row in rows]
    keys = [item[-1] for item in prepared]
    known = dict(
        session.execute(
            select(Message.identity_key, Message.id).where(
                Message.identity_key.in_(keys)
            )
        ).all()
    )
    fresh = [item for item in prepared if item[-1] not in known]
    try:
        with session.begin_nested():
            created = _insert(session, fresh)
    except IntegrityError:
        # Another worker (or the sweeper) recorded some of them a moment ago.
        created = _insert_one_by_one(session, fresh)
    known.update(created)

    for row, *_rest, key in prepared:
        row.message_row_id = known.get(key) or session.scalar(
            select(Message.id).where(Message.identity_key == key)
        )
    if created:
        ids = list(created.values())
        link_messages(session, settings, ids)
        thread_messages(session, settings, ids)
    log.info("recorded %d sent messages (%d new)", len(rows), len(created))
    return len(created)


def _prepare(settings: Settings, row: OutgoingMessage):
    raw = Spool(settings.outbox_dir).read_message(row.spool_name)
    sha256 = RawStore(settings.effective_raw_store_dir).put(raw)
    parsed = parse_headers(raw, row.sent_at)
    sender = next(
        (a.address for a in parsed.addresses if a.role == "from"), row.from_address
    )
    key = identity_key(
        row.message_id_header, date_header(raw), sender, body_digest(raw)
    )
    return row, parsed, raw, sha256, key


def _insert(session: Session, fresh) -> dict[str, int]:
    messages = [(_new_message(*item), item) for item in fresh]
    session.add_all(message for message, _item in messages)
    session.flush()
    for message, (row, parsed, *_rest) in messages:
        _add_references(session, message, row, parsed)
    session.flush()
    return {message.identity_key: message.id for message, _item in messages}


def _insert_one_by_one(session: Session, fresh) -> dict[str, int]:
    created = {}
    for item in fresh:
        try:
            with session.begin_nested():
                created.update(_insert(session, [item]))
        except IntegrityError:
            pass
    return created


def _new_message(outgoing, parsed, raw: bytes, sha256: str, key: str) -> Message:
    message = Message(
        identity_key=key,
        raw_sha256=sha256,
        size=len(raw),
        message_id_header=outgoing.message_id_header,
        in_reply_to=outgoing.in_reply_to.strip("<>") if outgoing.in_reply_to else None,
        subject=outgoing.subject,
        normalized_subject=normalize_subject(outgoing.subject),
        from_name=outgoing.from_name,
        from_address=outgoing.from_address,
        sent_at=parsed.sent_at or outgoing.sent_at,
        internal_date=outgoing.sent_at,
        has_attachments=bool(outgoing.attachments),
        is_auto_reply=False,
        parse_status=HEADERS_ONLY,
        body_html=outgoing.body_html,
        body_text=outgoing.body_text,
        snippet=" ".join((outgoing.body_text or "").split())[:300] or None,
    )
    for address in parsed.addresses:
        message.addresses.append(_address(address.role, address.name, address.address))
    for recipient in outgoing.recipients:
        if recipient.role == "bcc":  # not in the headers, but in the history
            message.addresses.append(_address("bcc", recipient.name, recipient.address))
    return message


def _address(role: str, name: str | None, address: str) -> MessageAddress:
    norm = address.lower()
    return MessageAddress(
        role=role,
        name=name,
        address=address,
        address_norm=norm,
        domain=norm.rpartition("@")[2],
    )


def _add_references(session: Session, message: Message, outgoing, parsed) -> None:
    # Our own id stands in References of a new message (see queueing.py); it is
    # no reference to another message.
    for referenced in dict.fromkeys(parsed.references + [parsed.in_reply_to or ""]):
        if referenced and referenced != outgoing.message_id_header:
            session.add(
                MessageReference(message_id=message.id, referenced_id=referenced)
            )

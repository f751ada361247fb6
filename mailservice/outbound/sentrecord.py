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

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.db.base import utcnow
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
    # No fsync here: the same bytes sit durably in the outbox spool (written
    # with fsync before the row was queued).
    # TODO: nothing re-puts a copy lost in a power cut yet; rebuild it from the
    # spool when the web finds a sent message's raw missing.
    sha256 = RawStore(settings.effective_raw_store_dir, fsync=False).put(raw)
    parsed = parse_headers(raw, row.sent_at)
    sender = next(
        (a.address for a in parsed.addresses if a.role == "from"), row.from_address
    )
    key = identity_key(
        row.message_id_header, date_header(raw), sender, body_digest(raw)
    )
    return row, parsed, raw, sha256, key


def _insert(session: Session, fresh) -> dict[str, int]:
    # Plain multi-row INSERTs, as the sync's ingest does: the unit of work would
    # cost more CPU than sending the messages did.
    if not fresh:
        return {}
    inserted = session.execute(
        insert(Message).returning(
            Message.id, Message.identity_key, sort_by_parameter_order=True
        ),
        [_message_values(*item) for item in fresh],
    ).all()
    ids = {key: message_id for message_id, key in inserted}
    addresses, references = [], []
    for row, parsed, *_rest, key in fresh:
        addresses += _addresses(ids[key], row, parsed)
        references += _references(ids[key], row, parsed)
    if addresses:
        session.execute(insert(MessageAddress), addresses)
    if references:
        session.execute(insert(MessageReference), references)
    return ids


def _insert_one_by_one(session: Session, fresh) -> dict[str, int]:
    created = {}
    for item in fresh:
        try:
            with session.begin_nested():
                created.update(_insert(session, [item]))
        except IntegrityError:
            pass
    return created


def _message_values(outgoing, parsed, raw: bytes, sha256: str, key: str) -> dict:
    return dict(
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
        created_at=utcnow(),
    )


def _addresses(message_id: int, outgoing, parsed) -> list[dict]:
    found = [(a.role, a.name, a.address) for a in parsed.addresses]
    # Bcc is not in the headers, but belongs in the history.
    found += [
        (r.role, r.name, r.address) for r in outgoing.recipients if r.role == "bcc"
    ]
    return [
        dict(
            message_id=message_id,
            role=role,
            name=name,
            address=address,
            address_norm=address.lower(),
            domain=address.lower().rpartition("@")[2],
        )
        for role, name, address in found
    ]


def _references(message_id: int, outgoing, parsed) -> list[dict]:
    # Our own id stands in References of a new message (see queueing.py); it is
    # no reference to another message.
    wanted = dict.fromkeys(parsed.references + [parsed.in_reply_to or ""])
    return [
        dict(message_id=message_id, referenced_id=referenced)
        for referenced in wanted
        if referenced and referenced != outgoing.message_id_header
    ]

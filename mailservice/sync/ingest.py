"""Turning a fetched batch into rows: messages, locations, addresses, references.

One call writes one batch in the caller's transaction, together with the folder's
new resume point (`Folder.last_uid`), so a crash before the commit leaves nothing
and a crash after it leaves a complete batch. The same message in two folders or
two accounts is one Message row (found by `identity_key`) with two locations.
"""

from __future__ import annotations

import logging

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Folder
from mailservice.config import Settings
from mailservice.contacts.addresses import domain_of, normalize_address
from mailservice.contacts.linking import link_messages
from mailservice.messages.models import (
    HEADERS_ONLY,
    QUARANTINED,
    Message,
    MessageAddress,
    MessageLocation,
    MessageReference,
)
from mailservice.sync.fetch import FetchedMessage
from mailservice.sync.identity import identity_key
from mailservice.threads.subject import normalize_subject
from mailservice.threads.threader import thread_messages

log = logging.getLogger(__name__)

_IN_CHUNK = 500


def message_identity(message: FetchedMessage) -> str:
    """Message-ID, Date, From and body when there is a Message-ID, else the raw hash."""
    headers = message.headers
    if not headers.message_id:
        return message.sha256
    sender = next((a.address for a in headers.addresses if a.role == "from"), "")
    return identity_key(
        headers.message_id, message.date_header, sender, message.body_digest
    )


def ingest_batch(
    session: Session,
    settings: Settings,
    folder: Folder,
    messages: list[FetchedMessage],
) -> list[int]:
    """Write a fetched batch of `folder`, advance its last_uid; the new message ids."""
    if not messages:
        return []
    keys = [message_identity(message) for message in messages]
    ids = _existing_ids(session, keys)
    new_ids = _insert_messages(session, messages, keys, ids)

    _insert_locations(session, folder, messages, keys, ids)
    # The resume point moves in the same transaction as the rows it covers.
    folder.last_uid = max(folder.last_uid or 0, *(m.uid for m in messages))
    link_messages(session, settings, new_ids)
    thread_messages(session, settings, new_ids)
    log.debug("batch ingested folder_id=%s uids=%s..%s new=%s", folder.id,
              messages[0].uid, messages[-1].uid, len(new_ids))
    return new_ids


def _existing_ids(session: Session, keys: list[str]) -> dict[str, int]:
    unique = sorted(set(keys))
    found: dict[str, int] = {}
    for start in range(0, len(unique), _IN_CHUNK):
        chunk = unique[start:start + _IN_CHUNK]
        found.update(session.execute(
            select(Message.identity_key, Message.id)
            .where(Message.identity_key.in_(chunk))
        ).all())
    return found


def _insert_messages(
    session: Session,
    messages: list[FetchedMessage],
    keys: list[str],
    ids: dict[str, int],
) -> list[int]:
    fresh: dict[str, FetchedMessage] = {}
    for key, message in zip(keys, messages):
        if key not in ids and key not in fresh:
            fresh[key] = message
    if not fresh:
        return []
    rows = [_message_row(key, message) for key, message in fresh.items()]
    # Core inserts (Table, not ORM class): executemany without per-row ORM work.
    inserted = session.execute(
        insert(Message.__table__).returning(
            Message.id, Message.identity_key, sort_by_parameter_order=True
        ),
        rows,
    ).all()
    ids.update((key, message_id) for message_id, key in inserted)

    new = [(ids[key], message) for key, message in fresh.items()]
    _insert_addresses(session, new)
    _insert_references(session, new)
    return [message_id for message_id, _message in new]


def _message_row(key: str, message: FetchedMessage) -> dict:
    headers = message.headers
    sender = next((a for a in headers.addresses if a.role == "from"), None)
    return {
        "identity_key": key,
        "raw_sha256": message.sha256,
        "size": message.size,
        "message_id_header": _cut(headers.message_id, 1000),
        "in_reply_to": _cut(headers.in_reply_to, 1000),
        "thread_index": _cut(headers.thread_index, 100),
        "subject": headers.subject,
        "normalized_subject": normalize_subject(headers.subject) or None,
        "from_name": _cut(sender.name if sender else None, 500),
        "from_address": _cut(sender.address if sender else None, 320),
        "sent_at": headers.sent_at,
        "internal_date": message.internal_date,
        "has_attachments": headers.has_attachments,
        "is_auto_reply": headers.is_auto_reply,
        "parse_status": QUARANTINED if headers.error else HEADERS_ONLY,
        "parse_error": headers.error,
    }


def _insert_addresses(session: Session, new: list[tuple[int, FetchedMessage]]) -> None:
    rows = [
        {
            "message_id": message_id,
            "role": address.role,
            "name": _cut(address.name, 500),
            "address": _cut(address.address, 320),
            "address_norm": _cut(normalize_address(address.address), 320),
            "domain": _cut(domain_of(address.address), 255),
        }
        for message_id, message in new
        for address in message.headers.addresses
        if address.address
    ]
    if rows:
        session.execute(insert(MessageAddress.__table__), rows)


def _insert_references(session: Session, new: list[tuple[int, FetchedMessage]]) -> None:
    rows = []
    for message_id, message in new:
        headers = message.headers
        wanted = [*headers.references, headers.in_reply_to]
        seen = set()
        for referenced in wanted:
            referenced = _cut(referenced, 1000)
            if referenced and referenced not in seen:
                seen.add(referenced)
                rows.append({"message_id": message_id, "referenced_id": referenced})
    if rows:
        session.execute(insert(MessageReference.__table__), rows)


def _insert_locations(
    session: Session,
    folder: Folder,
    messages: list[FetchedMessage],
    keys: list[str],
    ids: dict[str, int],
) -> None:
    uids = [message.uid for message in messages]
    present = set(session.scalars(
        select(MessageLocation.uid).where(
            MessageLocation.folder_id == folder.id,
            MessageLocation.uidvalidity == folder.uidvalidity,
            MessageLocation.uid.between(min(uids), max(uids)),
        )
    ))
    rows = [
        {
            "message_id": ids[key],
            "folder_id": folder.id,
            "uidvalidity": folder.uidvalidity,
            "uid": message.uid,
            "raw_sha256": message.sha256,
            "flags": message.flags,
            "modseq": message.modseq,
        }
        for key, message in zip(keys, messages)
        if message.uid not in present
    ]
    if not rows:
        return
    # After a UIDVALIDITY reset the folder is fetched anew: a message found again
    # replaces its location under the old UIDVALIDITY instead of doubling it.
    session.execute(
        delete(MessageLocation).where(
            MessageLocation.folder_id == folder.id,
            MessageLocation.uidvalidity != folder.uidvalidity,
            MessageLocation.message_id.in_({row["message_id"] for row in rows}),
        )
    )
    session.execute(insert(MessageLocation.__table__), rows)


def _cut(text: str | None, length: int) -> str | None:
    return text[:length] if text else text

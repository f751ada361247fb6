"""Keeping the full-text index of messages (table `message_search`, revision 0002).

Text is folded before it is stored and before it is searched: lowercased, Polish
and other diacritics removed, split into words. Both databases then hold the same
words, so a search gives the same hits on SQLite (FTS5) and PostgreSQL (tsvector).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import defaultdict

from sqlalchemy import exists, select, text
from sqlalchemy.orm import Session

from mailservice.messages.models import PARSED, Attachment, Message, MessageAddress

log = logging.getLogger(__name__)

WORD = re.compile(r"\w+")
# Letters that NFKD does not take apart into a base letter and an accent.
_UNDECOMPOSED = str.maketrans({"ł": "l", "Ł": "l", "ß": "ss", "đ": "d", "ø": "o"})
# A body's first 256 KiB carry what anyone searches for; the rest only bloats.
MAX_BODY_CHARS = 256 * 1024
BATCH = 200


def fold(value: str | None) -> str:
    """Words of `value`, lowercased and without diacritics, joined by spaces."""
    if not value:
        return ""
    value = unicodedata.normalize("NFKD", value.translate(_UNDECOMPOSED))
    value = "".join(c for c in value if not unicodedata.combining(c)).lower()
    return " ".join(WORD.findall(value))


def index_messages(session: Session, message_ids: list[int]) -> None:
    """(Re)index these messages: subject, addresses, attachment names and body text.

    Call it after a message's bodies are extracted; calling it twice is harmless.
    """
    for start in range(0, len(message_ids), BATCH):
        write_documents(
            session, _documents(session, message_ids[start : start + BATCH])
        )
    log.debug("indexed %d messages for search", len(message_ids))


def write_documents(session: Session, documents: list[dict]) -> None:
    """Store folded documents (id, subject, addresses, attachments, body) as given.

    For bulk loads that already hold the text; everyone else calls index_messages.
    """
    if session.get_bind().dialect.name == "sqlite":
        _write_sqlite(session, documents)
    else:
        _write_postgresql(session, documents)


def index_pending(session: Session, limit: int = 1000) -> int:
    """Index parsed messages that have no index entry yet; returns how many."""
    key = "rowid" if session.get_bind().dialect.name == "sqlite" else "message_id"
    missing = session.scalars(
        select(Message.id)
        .where(Message.parse_status == PARSED)
        .where(
            ~exists(
                select(text("1"))
                .select_from(text("message_search"))
                .where(text(f"message_search.{key} = messages.id"))
            )
        )
        .order_by(Message.id)
        .limit(limit)
    ).all()
    index_messages(session, list(missing))
    return len(missing)


def _documents(session: Session, ids: list[int]) -> list[dict]:
    addresses: dict[int, list[str]] = defaultdict(list)
    for message_id, name, address in session.execute(
        select(
            MessageAddress.message_id, MessageAddress.name, MessageAddress.address
        ).where(MessageAddress.message_id.in_(ids))
    ):
        addresses[message_id].append(f"{name or ''} {address}")
    names: dict[int, list[str]] = defaultdict(list)
    for message_id, filename in session.execute(
        select(Attachment.message_id, Attachment.filename).where(
            Attachment.message_id.in_(ids), Attachment.filename.is_not(None)
        )
    ):
        names[message_id].append(filename)
    rows = session.execute(
        select(Message.id, Message.subject, Message.body_text).where(
            Message.id.in_(ids)
        )
    )
    return [
        {
            "id": row.id,
            "subject": fold(row.subject),
            "addresses": fold(" ".join(addresses[row.id])),
            "attachments": fold(" ".join(names[row.id])),
            "body": fold((row.body_text or "")[:MAX_BODY_CHARS]),
        }
        for row in rows
    ]


def _write_sqlite(session: Session, documents: list[dict]) -> None:
    if not documents:
        return
    session.execute(
        text("DELETE FROM message_search WHERE rowid = :id"),
        [{"id": d["id"]} for d in documents],
    )
    session.execute(
        text(
            "INSERT INTO message_search (rowid, subject, addresses, attachments, body) "
            "VALUES (:id, :subject, :addresses, :attachments, :body)"
        ),
        documents,
    )


def _write_postgresql(session: Session, documents: list[dict]) -> None:
    if not documents:
        return
    # Weights rank a word in the subject above one in the body (A > B > C > D).
    session.execute(
        text(
            "INSERT INTO message_search (message_id, document) VALUES (:id, "
            "setweight(to_tsvector('simple', :subject), 'A') || "
            "setweight(to_tsvector('simple', :addresses), 'B') || "
            "setweight(to_tsvector('simple', :attachments), 'B') || "
            "setweight(to_tsvector('simple', :body), 'D')) "
            "ON CONFLICT (message_id) DO UPDATE SET document = excluded.document"
        ),
        documents,
    )

"""The messages of one threading batch, read in one query, and IN-list helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator, TypeVar

from sqlalchemy import ARRAY, ColumnElement, String, any_, bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from mailservice.messages.models import Message

T = TypeVar("T")

# Bound parameters per IN list: far below SQLite's 32,766 and PostgreSQL's 65,535
# per statement, so a message with thousands of recipients cannot break a query.
IN_CHUNK = 500


@dataclass
class ThreadedMessage:
    """What threading reads of a message: its ids, subject, date and thread."""

    id: int
    thread_id: int | None
    message_id_header: str | None
    subject: str | None
    normalized_subject: str | None
    sent_at: datetime | None
    thread_index: str | None
    in_reply_to: str | None


def in_chunks(values: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """The values in lists of at most `size`, for IN clauses."""
    chunk: list[T] = []
    for value in values:
        chunk.append(value)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def one_of(session: Session, column, values: list) -> ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `= ANY(array)`: one parameter, not hundreds.

    Measured on PostgreSQL, 800 ids as one array look up three times faster than
    as an IN list of bound parameters, which must be expanded and parsed each time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return column.in_(values)
    element = String() if isinstance(column.type, NullType) else column.type
    return column == any_(bindparam(None, values, type_=ARRAY(element)))


def load_messages(session: Session, ids: Iterable[int]) -> dict[int, ThreadedMessage]:
    """The threading view of the messages with these ids, by id."""
    columns = (
        Message.id,
        Message.thread_id,
        Message.message_id_header,
        Message.subject,
        Message.normalized_subject,
        Message.sent_at,
        Message.thread_index,
        Message.in_reply_to,
    )
    found: dict[int, ThreadedMessage] = {}
    for chunk in in_chunks(ids):
        query = select(*columns).where(one_of(session, Message.id, chunk))
        for row in session.execute(query):
            found[row.id] = ThreadedMessage(*row)
    return found

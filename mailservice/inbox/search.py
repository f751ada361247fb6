"""Searching mail: words in subject, body, addresses and attachment names; filters.

Words go through the database's full-text index (FTS5 on SQLite, tsvector with GIN
on PostgreSQL); each word also matches as a prefix ("fakt" finds "faktura").
Every hit is limited to the mailboxes the user may read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import and_, exists, func, literal_column, select, text
from sqlalchemy.orm import Session

from mailservice.accounts.models import Folder
from mailservice.contacts.models import MessageContact
from mailservice.inbox.flags import unseen
from mailservice.inbox.search_index import fold
from mailservice.messages.models import Message, MessageLocation
from mailservice.users.access import Access

PAGE_SIZE = 50
MAX_WORDS = 12
# From this many hits on, a page of the newest is found by walking mail by date.
MANY_HITS = 2000


@dataclass
class SearchQuery:
    """What a user searched for; every part is optional."""

    words: str = ""
    contact_id: int | None = None
    account_id: int | None = None
    folder_id: int | None = None
    since: date | None = None
    until: date | None = None
    has_attachment: bool = False
    unread: bool = False
    page: int = 0

    @property
    def is_empty(self) -> bool:
        """True when nothing at all was asked."""
        return not (
            fold(self.words)
            or self.contact_id
            or self.account_id
            or self.folder_id
            or self.since
            or self.until
            or self.has_attachment
            or self.unread
        )


@dataclass
class SearchHit:
    """A message found, with what a result line shows."""

    message_id: int
    thread_id: int | None
    subject: str | None
    snippet: str | None
    from_name: str | None
    from_address: str | None
    sent_at: datetime | None
    has_attachments: bool


@dataclass
class SearchResult:
    """One page of hits, and whether another page follows."""

    hits: list[SearchHit] = field(default_factory=list)
    has_more: bool = False


def search_messages(
    session: Session, access: Access, query: SearchQuery
) -> SearchResult:
    """The visible messages matching the query, newest first, one page."""
    if query.is_empty:
        return SearchResult()
    conditions = [access.messages(), *_filters(access, query)]
    words = fold(query.words).split()[:MAX_WORDS]
    if words:
        conditions.append(Message.id.in_(_matching(session, words)))

    statement = (
        select(
            Message.id,
            Message.thread_id,
            Message.subject,
            Message.snippet,
            Message.from_name,
            Message.from_address,
            Message.sent_at,
            Message.has_attachments,
        )
        .where(*conditions)
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .offset(query.page * PAGE_SIZE)
        .limit(PAGE_SIZE + 1)
    )
    hits = [SearchHit(*row) for row in session.execute(statement)]
    return SearchResult(hits[:PAGE_SIZE], len(hits) > PAGE_SIZE)


def _matching(session: Session, words: list[str]):
    if session.get_bind().dialect.name == "sqlite":
        # FTS5 query syntax: each word quoted (it is only letters and digits
        # after folding) and followed by * for a prefix match; all must occur.
        match = " ".join(f'"{word}"*' for word in words)
        return (
            select(text("rowid"))
            .select_from(text("message_search"))
            .where(text("message_search MATCH :match").bindparams(match=match))
        )
    tsquery = " & ".join(f"{word}:*" for word in words)
    hits = (
        select(literal_column("message_id"))
        .select_from(text("message_search"))
        .where(
            text("document @@ to_tsquery('simple', :tsquery)").bindparams(
                tsquery=tsquery
            )
        )
    )
    if _many(session, hits):
        return hits  # many hits: walking all mail by date finds a page soon
    # Few hits: collect them first, then sort by date. Left to itself the
    # planner may walk all mail by date and test each message, which for a
    # rare word reads all of it (400 ms at 100,000 messages against 5 ms).
    few = hits.cte("hits").prefix_with("MATERIALIZED")
    return select(few.c.message_id)


def _many(session: Session, hits) -> bool:
    counted = select(func.count()).select_from(hits.limit(MANY_HITS).subquery())
    return session.scalar(counted) >= MANY_HITS


def _filters(access: Access, query: SearchQuery) -> list:
    conditions = []
    location = [
        MessageLocation.message_id == Message.id,
        MessageLocation.deleted_at.is_(None),
    ]
    if query.contact_id:
        conditions.append(
            exists().where(
                MessageContact.message_id == Message.id,
                MessageContact.contact_id == query.contact_id,
            )
        )
    if query.folder_id:
        conditions.append(
            exists().where(*location, MessageLocation.folder_id == query.folder_id)
        )
    if query.account_id:
        access.require_account(query.account_id)
        conditions.append(
            exists().where(
                *location,
                MessageLocation.folder_id == Folder.id,
                Folder.account_id == query.account_id,
            )
        )
    if query.unread:
        conditions.append(
            exists().where(
                *location,
                unseen(),
                MessageLocation.folder_id == Folder.id,
                Folder.account_id.in_(access.account_ids),
            )
        )
    if query.since:
        conditions.append(Message.sent_at >= _start_of(query.since))
    if query.until:
        conditions.append(Message.sent_at < _start_of(query.until + timedelta(days=1)))
    if query.has_attachment:
        conditions.append(Message.has_attachments.is_(True))
    return [and_(*conditions)] if conditions else []


def _start_of(day: date) -> datetime:
    # TODO: days start at midnight UTC; the user's own zone would be closer to
    # what they mean, and needs a time zone per user.
    return datetime.combine(day, time.min, tzinfo=timezone.utc)

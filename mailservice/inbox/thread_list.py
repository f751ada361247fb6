"""The thread list of a folder: newest first, a page at a time, fast on huge folders.

Pages are cut by a cursor (the last row's thread date and id), never by OFFSET, so
page 400 costs what page 1 costs. Two plans give the same rows: on a folder that
holds a good share of all mail, walk the threads by date and keep those with a
copy here; on a small folder, collect its threads first and sort only those.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from mailservice.inbox.rows import ThreadRow, fill_rows
from mailservice.messages.models import Message, MessageLocation
from mailservice.threads.models import Thread

PAGE_SIZE = 50
# The walk reads about PAGE_SIZE / share threads; below this share of all mail
# (1 in 50) collecting the folder's own threads first is cheaper.
WALK_MIN_SHARE = 0.02
PLAN_SECONDS = 60
_PLANS: dict[tuple[str, int], tuple[bool, float]] = {}


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the date and id of its last thread."""

    last_at: datetime
    thread_id: int

    def encode(self) -> str:
        """The cursor as a URL parameter."""
        return f"{int(self.last_at.timestamp() * 1_000_000)}.{self.thread_id}"

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """The cursor of a URL parameter, or None when missing or malformed."""
        try:
            micros, thread_id = (value or "").split(".")
            stamp = datetime.fromtimestamp(int(micros) / 1_000_000, tz=timezone.utc)
            return cls(stamp, int(thread_id))
        except (ValueError, OverflowError, OSError):
            return None


@dataclass
class ThreadPage:
    """One page of a thread list and the cursor of the next, if any."""

    rows: list[ThreadRow]
    next_cursor: Cursor | None


def folder_threads(
    session: Session,
    folder_id: int,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> ThreadPage:
    """One page of the threads that have a live message in the folder."""
    walk = _walk_pays_for_folder(session, folder_id)
    statement = _folder_page_statement(walk, cursor is not None)
    params = {"folder_id": folder_id, "size": size + 1}
    if cursor is not None:
        params.update(last_at=cursor.last_at, thread_id=cursor.thread_id)
    page = _page(session.execute(statement, params).all(), size)
    page.rows = fill_rows(session, page.rows, folder_id=folder_id)
    return page


def thread_page(
    session: Session, condition, cursor: Cursor | None, size: int
) -> ThreadPage:
    """Threads meeting `condition`, newest first, starting after `cursor`."""
    statement = _ordered(select(Thread.id, Thread.last_at).where(condition), cursor)
    params = {"size": size + 1}
    if cursor is not None:
        params.update(last_at=cursor.last_at, thread_id=cursor.thread_id)
    return _page(session.execute(statement, params).all(), size)


@cache
def _folder_page_statement(walk: bool, after_cursor: bool):
    # Built once per plan: a page then only binds folder, cursor and size.
    in_folder = and_(
        MessageLocation.folder_id == bindparam("folder_id"),
        MessageLocation.deleted_at.is_(None),
    )
    if walk:
        here = exists().where(
            Message.thread_id == Thread.id,
            MessageLocation.message_id == Message.id,
            in_folder,
        )
    else:
        here = Thread.id.in_(
            select(Message.thread_id)
            .join(MessageLocation, MessageLocation.message_id == Message.id)
            .where(in_folder)
        )
    return _ordered(select(Thread.id, Thread.last_at).where(here), after_cursor)


def _ordered(statement, after_cursor):
    if after_cursor:
        last_at, thread_id = bindparam("last_at"), bindparam("thread_id")
        statement = statement.where(
            or_(
                Thread.last_at < last_at,
                and_(Thread.last_at == last_at, Thread.id < thread_id),
            )
        )
    # TODO: a thread without any dated message (last_at NULL) sorts last on
    # SQLite and first on PostgreSQL, and is not reached past page 1 on SQLite;
    # threading gives every thread a date, so this needs no second index yet.
    return statement.order_by(Thread.last_at.desc(), Thread.id.desc()).limit(
        bindparam("size")
    )


def _page(found, size: int) -> ThreadPage:
    rows = [ThreadRow(thread_id=row.id, last_at=row.last_at) for row in found[:size]]
    more = len(found) > size and rows[-1].last_at is not None
    next_cursor = Cursor(rows[-1].last_at, rows[-1].thread_id) if more else None
    return ThreadPage(rows, next_cursor)


def _walk_pays_for_folder(session: Session, folder_id: int) -> bool:
    # A folder's share of all mail changes slowly: the plan is chosen once a
    # minute per folder and process (a stale choice costs time, never rows).
    key = (str(session.get_bind().url), folder_id)
    decided = _PLANS.get(key)
    if decided is None or time.monotonic() - decided[1] > PLAN_SECONDS:
        live = select(MessageLocation.id).where(
            MessageLocation.folder_id == folder_id,
            MessageLocation.deleted_at.is_(None),
        )
        decided = (walk_pays(session, live), time.monotonic())
        _PLANS[key] = decided
    return decided[0]


def walk_pays(session: Session, rows) -> bool:
    """Whether `rows` (a select of a folder's or contact's messages) is a big share."""
    # TODO: a contact or folder whose many messages are all old still makes the
    # walk read every newer thread; a per-plan cost check would catch that.
    # max(id) stands in for the count of all messages, and the count stops at
    # the threshold, so the check costs a bounded index read.
    total = session.scalar(select(func.max(Message.id))) or 0
    threshold = max(int(total * WALK_MIN_SHARE), 1)
    counted = select(func.count()).select_from(rows.limit(threshold).subquery())
    return (session.scalar(counted) or 0) >= threshold

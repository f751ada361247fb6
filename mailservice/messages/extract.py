"""Bodies and attachments extracted behind the hot path (parse_status "headers").

The sync lists, links and threads a message from its headers alone; this stage
reads the raw message back from the store, parses it whole in a pool of worker
processes (the parse is CPU-bound: 700-900 msg/s per core on the test corpus,
against 15,000 for headers alone) and writes the result from the parent. A
message that cannot be parsed is quarantined with the reason; its raw bytes stay.

Safe beside a running sync and after a crash: each message is claimed with a
conditional UPDATE (parse_status still "headers"), so two extractors never both
write one message, and a batch is one transaction.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing import get_context

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.db.session import session_scope
from mailservice.errors import NotFoundError
from mailservice.messages.models import (
    HEADERS_ONLY,
    PARSED,
    QUARANTINED,
    Attachment,
    Message,
)
from mailservice.parsing.body import ParsedBody
from mailservice.parsing.stored import MISSING, parse_stored
from mailservice.store.raw import RawStore

log = logging.getLogger(__name__)

BATCH_SIZE = 100
# Starting worker processes costs one to two seconds; below this backlog one
# process parses sooner.
POOL_THRESHOLD = 1000


@dataclass
class ExtractCounts:
    """What one extraction run did."""

    parsed: int = 0
    quarantined: int = 0
    missing_raw: int = 0  # left as "headers": the store may be mounted late

    @property
    def done(self) -> int:
        """Messages whose status changed."""
        return self.parsed + self.quarantined


Outcome = ParsedBody | str  # a parse, or the reason there is none (or MISSING)


def extract_pending(
    settings: Settings,
    limit: int | None = None,
    workers: int | None = None,
    progress: Callable[[ExtractCounts], None] | None = None,
) -> ExtractCounts:
    """Extract bodies of messages still at parse_status "headers"; counts what it did.

    `workers` processes parse; by default one per core when the backlog is large,
    else this process alone. Workers are spawned: a script calling this needs the
    usual `if __name__ == "__main__":` guard.
    """
    counts = ExtractCounts()
    store = RawStore(settings.effective_raw_store_dir)
    url = settings.effective_database_url
    if workers is None:
        large = _backlog(url) >= POOL_THRESHOLD
        workers = (os.cpu_count() or 1) if large else 1
    with _parsers(workers) as start_parsing:
        # The workers parse the next batch while this process writes the last.
        previous = None
        for batch in _pending_batches(url, limit):
            started = start_parsing([str(store.path(sha)) for _, sha in batch])
            if previous is not None:
                _write(url, *previous, counts, progress)
            previous = batch, started
        if previous is not None:
            _write(url, *previous, counts, progress)
    log.info("extraction finished: %d parsed, %d quarantined, %d without raw",
             counts.parsed, counts.quarantined, counts.missing_raw)
    return counts


def extract_one(session: Session, settings: Settings, message_id: int) -> str:
    """Extract one message now, in this process; returns its parse_status.

    The caller commits.
    """
    message = session.get(Message, message_id)
    if message is None:
        raise NotFoundError(f"message {message_id} does not exist")
    if message.parse_status != HEADERS_ONLY:
        return message.parse_status
    store = RawStore(settings.effective_raw_store_dir)
    outcome = parse_stored(str(store.path(message.raw_sha256)))
    _insert_attachments(session, _record(session, message_id, outcome, ExtractCounts()))
    session.flush()
    session.refresh(message)
    return message.parse_status


def _write(url: str, batch: list[tuple[int, str]], outcomes: Iterable[Outcome],
           counts: ExtractCounts, progress) -> None:
    from mailservice.inbox.search_index import index_messages

    with session_scope(url) as session:
        rows = []
        for (message_id, _sha), outcome in zip(batch, outcomes, strict=True):
            rows += _record(session, message_id, outcome, counts)
        _insert_attachments(session, rows)
        session.flush()
        # Searchable in the same commit that makes the body known.
        index_messages(session, [message_id for message_id, _sha in batch])
    if progress is not None:
        progress(counts)


def _pending_batches(url: str, limit: int | None) -> Iterator[list[tuple[int, str]]]:
    # Walk ids upwards so a message left as it was (raw missing) is not met again.
    last_id, remaining = 0, limit
    while remaining is None or remaining > 0:
        size = BATCH_SIZE if remaining is None else min(BATCH_SIZE, remaining)
        with session_scope(url) as session:
            batch = [(row.id, row.raw_sha256) for row in session.execute(
                select(Message.id, Message.raw_sha256)
                .where(Message.parse_status == HEADERS_ONLY, Message.id > last_id)
                .order_by(Message.id)
                .limit(size)
            )]
        if not batch:
            return
        yield batch
        last_id = batch[-1][0]
        remaining = None if remaining is None else remaining - len(batch)


def _backlog(url: str) -> int:
    with session_scope(url) as session:
        return session.scalar(
            select(func.count()).where(Message.parse_status == HEADERS_ONLY)
        )


@contextmanager
def _parsers(workers: int) -> Iterator[Callable[[list[str]], Iterable[Outcome]]]:
    """A function that starts parsing files and returns their outcomes, in order."""
    if workers == 1:
        yield lambda paths: [parse_stored(path) for path in paths]
        return
    # spawn, not fork: the parent holds database connections and may run job
    # threads, neither of which survives a fork safely.
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    try:
        # map() submits every path at once and yields the outcomes in order.
        yield lambda paths: pool.map(parse_stored, paths, chunksize=4)
    finally:
        pool.shutdown(cancel_futures=True)


def _record(session: Session, message_id: int, outcome: Outcome,
            counts: ExtractCounts) -> list[dict]:
    """Write one outcome on its message; the attachment rows it still needs."""
    if outcome == MISSING:
        counts.missing_raw += 1
        log.warning("message %d: raw message missing from the store", message_id)
    elif isinstance(outcome, ParsedBody):
        if _claim(session, message_id, _parsed_values(outcome)):
            counts.parsed += 1
            # A message still at "headers" has no attachment rows: they are
            # written in the transaction that moves it on.
            return _attachment_rows(message_id, outcome)
    elif _claim(session, message_id, {"parse_status": QUARANTINED,
                                      "parse_error": _text(outcome, None)}):
        counts.quarantined += 1
        log.error("message %d quarantined, raw kept: %s", message_id, outcome)
    return []


def _claim(session: Session, message_id: int, values: dict) -> bool:
    """Write `values` only if nobody extracted the message meanwhile."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.parse_status == HEADERS_ONLY)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _parsed_values(body: ParsedBody) -> dict:
    return {
        "parse_status": PARSED,
        "parse_error": None,
        "body_text": _text(body.text, None),
        "body_html": _text(body.html, None),
        "snippet": _text(body.snippet, 300),
        "has_attachments": body.has_attachments,
        "has_winmail_dat": body.has_winmail_dat,
    }


def _attachment_rows(message_id: int, body: ParsedBody) -> list[dict]:
    rows = []
    for part in body.attachments:
        if len(part.part_path) > 100:
            log.warning("message %d: part %.20s... path too long to list",
                        message_id, part.part_path)
            continue
        rows.append({
            "message_id": message_id,
            "filename": _text(part.filename, 1000),
            "content_type": _text(part.content_type, 255) or "application/octet-stream",
            "size": part.size,
            "content_id": _text(part.content_id, 1000),
            "is_inline": part.is_inline,
            "part_path": part.part_path,
        })
    return rows


def _insert_attachments(session: Session, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(Attachment), rows)  # one executemany per batch


def _text(value: str | None, max_length: int | None) -> str | None:
    # Both databases store only valid Unicode, and PostgreSQL no NUL.
    if value is None:
        return None
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:max_length] if max_length else value

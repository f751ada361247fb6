"""Reading a selected folder: UID lists, flag changes, and messages in batches.

Every command names explicit UID sets (imapclient 4.1's own fetch cannot take
"1:*"), bodies are fetched with BODY.PEEK[] so no \\Seen flag is set (RFC 3501
6.4.5), and memory stays flat: sizes are read first, messages are fetched in
batches bounded by count and bytes, and a message larger than one chunk is
streamed to the raw store with partial fetches (BODY.PEEK[]<offset.length>).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from imapclient import IMAPClient

from mailservice.config import Settings
from mailservice.parsing.headers import ParsedHeaders, parse_headers
from mailservice.store.raw import RawStore
from mailservice.sync.identity import BodyDigest, body_digest, date_header
from mailservice.sync.wire import (
    fetch_bodies,
    fetch_items,
    fetch_meta,
    parse_uid_set,
    read_items,
    uid_fetch,
    uid_set,
)

log = logging.getLogger(__name__)

_LIBC_NAME = ctypes.util.find_library("c")
_LIBC = ctypes.CDLL(_LIBC_NAME, use_errno=True) if _LIBC_NAME else None
# How many UIDs have their sizes read at once before being split into batches.
SIZE_WINDOW = 2000
# Flags are session state or server bookkeeping, not the user's (RFC 3501 2.3.2).
IGNORED_FLAGS = {"\\recent"}


@dataclass
class FetchedMessage:
    """One message read from the server: stored raw, its headers parsed."""

    uid: int
    flags: str
    modseq: int | None
    internal_date: datetime | None
    size: int
    sha256: str
    headers: ParsedHeaders
    date_header: str  # as written: part of the identity key
    body_digest: str  # part of the identity key too


def normalize_flags(flags: Iterable[bytes | str]) -> str:
    """Flags as stored: decoded, without \\Recent, sorted, space-separated."""
    texts = (f.decode("utf-8", "replace") if isinstance(f, bytes) else f for f in flags)
    return " ".join(sorted(t for t in texts if t.lower() not in IGNORED_FLAGS))


FlagChanges = dict[int, tuple[str, int | None]]


def changed_flags(
    client: IMAPClient, last_uid: int, modseq: int, qresync: bool
) -> tuple[FlagChanges, set[int] | None]:
    """Flags changed since `modseq` (RFC 7162 CHANGEDSINCE), and the UIDs vanished.

    Vanished UIDs come from QRESYNC's VANISHED (EARLIER) (RFC 7162 3.2.6); with
    CONDSTORE alone the server does not say, and the second value is None.
    """
    modifiers = f"CHANGEDSINCE {modseq}" + (" VANISHED" if qresync else "")
    client._imap.untagged_responses.pop("VANISHED", None)
    answered = read_flags(uid_fetch(client, f"1:{last_uid}", "FLAGS", modifiers))
    if not qresync:
        return answered, None
    vanished: set[int] = set()
    for line in client._imap.untagged_responses.pop("VANISHED", []):
        vanished |= parse_uid_set(line.split()[-1].decode())
    return answered, vanished


def all_flags(client: IMAPClient, uids: str) -> FlagChanges:
    """The flags of every message in a UID range, for servers without CONDSTORE."""
    return read_flags(uid_fetch(client, uids, "FLAGS"))


def read_flags(data: list) -> FlagChanges:
    """{uid: (flags as stored, MODSEQ)} from FETCH data holding FLAGS."""
    found = {}
    for uid, items in read_items(data).items():
        if b"FLAGS" in items:
            found[uid] = (normalize_flags(items[b"FLAGS"]), _modseq(items))
    return found


def _modseq(data: dict) -> int | None:
    value = data.get(b"MODSEQ")
    return value[0] if isinstance(value, tuple) and value else None


def fetch_new_messages(
    client: IMAPClient,
    settings: Settings,
    store: RawStore,
    uids: list[int],
    condstore: bool,
) -> Iterator[list[FetchedMessage]]:
    """Yield batches of new messages, each stored raw and parsed, in UID order."""
    for start in range(0, len(uids), SIZE_WINDOW):
        window = uids[start:start + SIZE_WINDOW]
        meta = fetch_meta(client, uid_set(window), condstore)
        for batch in _batches(window, meta, settings):
            yield _fetch_batch(client, settings, store, batch, meta)


def _batches(
    window: list[int], meta: dict[int, dict], settings: Settings
) -> Iterator[list[int]]:
    batch: list[int] = []
    size = 0
    for uid in window:
        if uid not in meta:  # expunged since the UID search
            continue
        message_size = meta[uid].get(b"RFC822.SIZE", 0)
        full = len(batch) >= settings.fetch_batch_messages
        if batch and (full or size + message_size > settings.fetch_batch_bytes):
            yield batch
            batch, size = [], 0
        batch.append(uid)
        size += message_size
    if batch:
        yield batch


def _fetch_batch(
    client: IMAPClient,
    settings: Settings,
    store: RawStore,
    batch: list[int],
    meta: dict[int, dict],
) -> list[FetchedMessage]:
    large = {uid for uid in batch
             if meta[uid].get(b"RFC822.SIZE", 0) > settings.fetch_chunk_bytes}
    small = [uid for uid in batch if uid not in large]
    bodies = fetch_bodies(client, uid_set(small)) if small else {}
    fetched: list[FetchedMessage] = []
    for uid in batch:
        if uid in large:
            message = _streamed(client, settings, store, uid, meta[uid])
        elif bodies.get(uid) is not None:
            message = _stored(store, uid, meta[uid], bodies[uid])
        else:
            message = None
        if message is None:
            log.info("message gone before its body was read uid=%s", uid)
            continue
        fetched.append(message)
    make_durable(store, [message.sha256 for message in fetched])
    return fetched


def make_durable(store: RawStore, hashes: list[str]) -> None:
    """Flush a batch of stored messages to disk before the database points at them.

    The store writes without fsync per message: on this kind of disk every fsync
    is a device flush (~2 ms), 10 times the cost of the rest of a message's sync.
    One syncfs(2) per batch flushes them all; without it, each file is synced.
    """
    if store.fsync or not hashes:
        return  # each put() synced its file already
    if _syncfs(store.root):
        return
    paths = [store.path(sha256) for sha256 in hashes]
    for path in paths:
        _fsync_path(path)
    for folder in {path.parent for path in paths}:
        _fsync_path(folder)  # the renames that put the files in place


def _syncfs(path: Path) -> bool:
    if _LIBC is None or not hasattr(_LIBC, "syncfs"):
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        return _LIBC.syncfs(fd) == 0
    finally:
        os.close(fd)


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stored(store: RawStore, uid: int, meta: dict, raw: bytes) -> FetchedMessage:
    internal_date = meta.get(b"INTERNALDATE")
    return FetchedMessage(
        uid=uid,
        flags=normalize_flags(meta.get(b"FLAGS", ())),
        modseq=_modseq(meta),
        internal_date=internal_date,
        size=len(raw),
        sha256=store.put(raw),
        headers=parse_headers(raw, internal_date),
        date_header=date_header(raw),
        body_digest=body_digest(raw),
    )


def _streamed(
    client: IMAPClient, settings: Settings, store: RawStore, uid: int, meta: dict
) -> FetchedMessage | None:
    chunks = _chunks(client, uid, settings.fetch_chunk_bytes)
    first = next(chunks, None)
    if first is None:
        return None
    sizes = [len(first)]
    digest = BodyDigest()

    def counted() -> Iterator[bytes]:
        digest.update(first)
        yield first
        for chunk in chunks:
            sizes.append(len(chunk))
            digest.update(chunk)
            yield chunk

    sha256 = store.put_chunks(counted())
    if sum(sizes) != meta.get(b"RFC822.SIZE"):
        # Cut short: the message was expunged while it streamed.
        log.warning("large message ended early uid=%s bytes=%s", uid, sum(sizes))
        return None
    internal_date = meta.get(b"INTERNALDATE")
    log.debug("streamed large message uid=%s bytes=%s", uid, sum(sizes))
    return FetchedMessage(
        uid=uid,
        flags=normalize_flags(meta.get(b"FLAGS", ())),
        modseq=_modseq(meta),
        internal_date=internal_date,
        size=sum(sizes),
        sha256=sha256,
        # The header block sits at the start; the first chunk holds it.
        headers=parse_headers(first, internal_date),
        date_header=date_header(first),
        body_digest=digest.hexdigest(),
    )


def _chunks(client: IMAPClient, uid: int, chunk_size: int) -> Iterator[bytes]:
    offset = 0
    while True:
        data = fetch_items(client, str(uid), f"BODY.PEEK[]<{offset}.{chunk_size}>")
        piece = data.get(uid, {}).get(f"BODY[]<{offset}>".encode())
        if not piece:
            return
        yield piece
        offset += len(piece)
        if len(piece) < chunk_size:
            return

"""Syncing one folder: skip it if unchanged, else flags, vanished, then new mail.

Steps, each committed on its own so a crash anywhere is resumed by the next run:
a UIDVALIDITY change restarts the folder (its messages are fetched anew and
re-mapped to the same Message rows); known messages get their flag changes and
deletions; new UIDs are fetched in batches, one transaction each; last, the
folder's STATUS is saved, which is what lets the next run skip it when nothing
changed (RFC 7162 3.1.2.1: an unchanged HIGHESTMODSEQ means no flag changed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from imapclient import IMAPClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mailservice.accounts.models import Folder
from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.messages.models import MessageLocation
from mailservice.store.raw import RawStore
from mailservice.sync.fetch import (
    FlagChanges,
    all_flags,
    changed_flags,
    fetch_new_messages,
)
from mailservice.sync.folders import RemoteFolder
from mailservice.sync.ingest import ingest_batch
from mailservice.sync.wire import search_uids

log = logging.getLogger(__name__)

_IN_CHUNK = 500
# UIDs whose flags are compared at once on a server without CONDSTORE.
FLAG_WINDOW = 5000
BatchHook = Callable[[str, int], None]


@dataclass
class SyncContext:
    """What every folder of one account's run shares."""

    session: Session
    settings: Settings
    client: IMAPClient
    store: RawStore
    condstore: bool
    qresync: bool
    on_batch: BatchHook | None = None


@dataclass
class FolderCounts:
    """What one folder's sync changed here."""

    selected: bool = False
    new_messages: int = 0
    new_locations: int = 0
    flags_changed: int = 0
    deleted: int = 0
    new_ids: list[int] = field(default_factory=list)


def sync_folder(ctx: SyncContext, folder: Folder, remote: RemoteFolder) -> FolderCounts:
    """Bring one folder up to date with the server, read-only toward the server."""
    counts = FolderCounts()
    if folder.uidvalidity != remote.uidvalidity:
        _restart(ctx.session, folder, remote)
    if _unchanged(folder, remote, ctx.condstore):
        return counts

    # EXAMINE: nothing we do can change the folder (RFC 3501 6.3.2).
    ctx.client.select_folder(folder.wire_name, readonly=True)
    counts.selected = True
    _refresh_known(ctx, folder, counts)
    _fetch_new(ctx, folder, counts)
    if ctx.condstore and not ctx.qresync:
        _find_vanished_by_count(ctx, folder, remote, counts)
    _finish(ctx.session, folder, remote)
    return counts


def _restart(session: Session, folder: Folder, remote: RemoteFolder) -> None:
    if folder.uidvalidity is not None:
        log.warning("uidvalidity changed folder=%r old=%s new=%s: fetching it anew",
                    folder.name, folder.uidvalidity, remote.uidvalidity)
    folder.uidvalidity = remote.uidvalidity
    folder.last_uid = 0
    folder.uidnext = folder.highest_modseq = folder.message_count = None
    session.commit()


def _unchanged(folder: Folder, remote: RemoteFolder, condstore: bool) -> bool:
    # Without CONDSTORE a flag change shows in no STATUS item: always look.
    return (
        condstore
        and folder.highest_modseq is not None
        and folder.highest_modseq == remote.highest_modseq
        and folder.uidnext == remote.uidnext
        and folder.message_count == remote.messages
    )


def _refresh_known(ctx: SyncContext, folder: Folder, counts: FolderCounts) -> None:
    if not folder.last_uid:
        return
    if ctx.condstore and folder.highest_modseq is not None:
        changes, vanished = changed_flags(
            ctx.client, folder.last_uid, folder.highest_modseq, ctx.qresync
        )
        known = _known_flags(ctx.session, folder, sorted(changes))
        counts.flags_changed += _apply_flags(ctx.session, folder, changes, known)
        if vanished:
            counts.deleted += mark_vanished(ctx.session, folder, vanished)
    else:
        _recheck_every_message(ctx, folder, counts)
    ctx.session.commit()


def _recheck_every_message(
    ctx: SyncContext, folder: Folder, counts: FolderCounts
) -> None:
    # Without CONDSTORE no STATUS item tells what changed: compare every
    # message's flags, and see which ones no longer answer. A window of UIDs at
    # a time keeps memory flat in a large folder.
    for low in range(1, folder.last_uid + 1, FLAG_WINDOW):
        high = min(low + FLAG_WINDOW - 1, folder.last_uid)
        on_server = all_flags(ctx.client, f"{low}:{high}")
        known = _known_flags(ctx.session, folder, (low, high))
        counts.flags_changed += _apply_flags(ctx.session, folder, on_server, known)
        gone = set(known) - set(on_server)
        counts.deleted += mark_vanished(ctx.session, folder, gone)


def _known_flags(
    session: Session, folder: Folder, uids: list[int] | tuple[int, int]
) -> dict[int, tuple[int, str]]:
    """{uid: (location id, flags)} of live locations, by UID list or (low, high)."""
    if isinstance(uids, tuple):
        conditions = [MessageLocation.uid.between(*uids)]
    else:
        conditions = [MessageLocation.uid.in_(chunk) for chunk in _chunks(uids)]
    known = {}
    for condition in conditions:
        rows = session.execute(
            select(MessageLocation.uid, MessageLocation.id, MessageLocation.flags)
            .where(_live_in(folder), condition)
        )
        known.update((uid, (location_id, flags)) for uid, location_id, flags in rows)
    return known


def _apply_flags(
    session: Session,
    folder: Folder,
    changes: FlagChanges,
    known: dict[int, tuple[int, str]],
) -> int:
    updates = [
        {"id": known[uid][0], "flags": flags, "modseq": modseq}
        for uid, (flags, modseq) in changes.items()
        if uid in known and known[uid][1] != flags
    ]
    if updates:
        session.execute(update(MessageLocation), updates)
        log.info("flags changed folder=%r count=%s", folder.name, len(updates))
    return len(updates)


def mark_vanished(session: Session, folder: Folder, uids: set[int]) -> int:
    """Mark the folder's messages with these UIDs deleted on the server; how many."""
    now = utcnow()
    marked = 0
    for chunk in _chunks(sorted(uids)):
        result = session.execute(
            update(MessageLocation)
            .where(_live_in(folder), MessageLocation.uid.in_(chunk))
            .values(deleted_at=now)
            .execution_options(synchronize_session=False)
        )
        marked += result.rowcount
    if marked:
        log.info("messages gone from server folder=%r count=%s", folder.name, marked)
    return marked


def _fetch_new(ctx: SyncContext, folder: Folder, counts: FolderCounts) -> None:
    found = search_uids(ctx.client, f"{folder.last_uid + 1}:*")
    # "n:*" also names the highest UID when every UID is below n (RFC 3501 6.4.8).
    uids = [uid for uid in found if uid > folder.last_uid]
    batches = fetch_new_messages(
        ctx.client, ctx.settings, ctx.store, uids, ctx.condstore
    )
    for batch in batches:
        new_ids = ingest_batch(ctx.session, ctx.settings, folder, batch)
        ctx.session.commit()
        counts.new_messages += len(new_ids)
        counts.new_locations += len(batch)
        counts.new_ids.extend(new_ids)
        log.debug("batch committed folder=%r last_uid=%s", folder.name, folder.last_uid)
        if ctx.on_batch is not None:
            ctx.on_batch(folder.name, len(batch))


def _find_vanished_by_count(
    ctx: SyncContext, folder: Folder, remote: RemoteFolder, counts: FolderCounts
) -> None:
    # CONDSTORE alone reports no expunges; when our count differs from the
    # server's, compare the UID lists.
    live = ctx.session.scalar(select(func.count()).where(_live_in(folder)))
    if live == remote.messages or not folder.last_uid:
        return
    existing = set(search_uids(ctx.client, f"1:{folder.last_uid}"))
    known = set(ctx.session.scalars(
        select(MessageLocation.uid).where(_live_in(folder))
    ))
    counts.deleted += mark_vanished(ctx.session, folder, known - existing)
    ctx.session.commit()


def _finish(session: Session, folder: Folder, remote: RemoteFolder) -> None:
    # Locations under an older UIDVALIDITY that no new UID replaced are messages
    # that did not come back after the reset.
    session.execute(
        update(MessageLocation)
        .where(
            MessageLocation.folder_id == folder.id,
            MessageLocation.uidvalidity != folder.uidvalidity,
            MessageLocation.deleted_at.is_(None),
        )
        .values(deleted_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    folder.uidnext = remote.uidnext
    folder.message_count = remote.messages
    folder.highest_modseq = remote.highest_modseq
    folder.last_sync_at = utcnow()
    session.commit()


def _live_in(folder: Folder):
    return (
        (MessageLocation.folder_id == folder.id)
        & (MessageLocation.uidvalidity == folder.uidvalidity)
        & MessageLocation.deleted_at.is_(None)
    )


def _chunks(items: list[int]) -> list[list[int]]:
    return [items[i:i + _IN_CHUNK] for i in range(0, len(items), _IN_CHUNK)]

"""The folders of an account: listed with their roles and status, then reconciled.

Names arrive in modified UTF-7 (RFC 3501 5.1.3) and are kept both ways: the wire
name to talk to the server, the decoded name ("Wysłane") for people. Roles come
from the RFC 6154 special-use flags, else from well-known names.
"""

from __future__ import annotations

import imaplib
import logging
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.imap_utf7 import decode as utf7_decode
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.db.base import utcnow
from mailservice.messages.models import MessageLocation

log = logging.getLogger(__name__)

SPECIAL_USE_ROLES = {
    b"\\sent": "sent",
    b"\\drafts": "drafts",
    b"\\trash": "trash",
    b"\\junk": "junk",
    b"\\archive": "archive",
}
# Names servers and clients use when they do not flag the folder (lowercased).
ROLE_NAMES = {
    "sent": ("sent", "sent items", "sent messages", "sent mail", "wysłane",
             "elementy wysłane", "wysłane elementy"),
    "drafts": ("drafts", "draft", "szkice", "kopie robocze"),
    "trash": ("trash", "deleted items", "deleted messages", "bin", "kosz",
              "elementy usunięte"),
    "junk": ("junk", "spam", "junk e-mail", "junk email", "bulk mail",
             "wiadomości-śmieci"),
    "archive": ("archive", "archives", "archiwum"),
}
NOT_SELECTABLE = {b"\\noselect", b"\\nonexistent"}


@dataclass
class RemoteFolder:
    """A folder as the server lists it, with its STATUS when it can be selected."""

    wire_name: str
    name: str
    delimiter: str | None
    role: str | None
    selectable: bool
    uidvalidity: int | None = None
    uidnext: int | None = None
    messages: int | None = None
    highest_modseq: int | None = None


def list_remote_folders(client: IMAPClient, condstore: bool) -> list[RemoteFolder]:
    """Every folder on the server with its role and STATUS (one STATUS each)."""
    folders = _listed_folders(client)
    assign_roles(folders)
    items = ["MESSAGES", "UIDNEXT", "UIDVALIDITY"]
    if condstore:
        items.append("HIGHESTMODSEQ")
    for folder in folders:
        if folder.selectable:
            _read_status(client, folder, items)
    return folders


def _read_status(client: IMAPClient, folder: RemoteFolder, items: list[str]) -> None:
    try:
        status = client.folder_status(folder.wire_name, items)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        # Gone between LIST and STATUS, or no rights: leave it for the next run.
        log.warning("folder status refused folder=%r: %s", folder.name, exc)
        return
    folder.uidvalidity = status.get(b"UIDVALIDITY")
    folder.uidnext = status.get(b"UIDNEXT")
    folder.messages = status.get(b"MESSAGES")
    folder.highest_modseq = status.get(b"HIGHESTMODSEQ")


def _listed_folders(client: IMAPClient) -> list[RemoteFolder]:
    # connect() turned folder_encode off: names arrive as the server wrote them.
    folders = []
    for flags, delimiter, raw_name in client.list_folders():
        wire = raw_name
        if isinstance(raw_name, bytes):
            wire = raw_name.decode("ascii", "replace")
        lowered = {flag.lower() for flag in flags}
        folders.append(RemoteFolder(
            wire_name=wire,
            name=decode_folder_name(wire),
            delimiter=delimiter.decode() if isinstance(delimiter, bytes) else delimiter,
            role=_special_use_role(lowered),
            selectable=not (lowered & NOT_SELECTABLE),
        ))
    return folders


def decode_folder_name(wire_name: str) -> str:
    """The readable name of a modified UTF-7 folder name; the wire name if malformed."""
    try:
        return utf7_decode(wire_name.encode("ascii"))
    except (UnicodeError, ValueError):
        return wire_name


def _special_use_role(flags: set[bytes]) -> str | None:
    for flag, role in SPECIAL_USE_ROLES.items():
        if flag in flags:
            return role
    return None


def assign_roles(folders: list[RemoteFolder]) -> None:
    """Give Inbox its role, and each role no folder is flagged with to a known name."""
    for folder in folders:
        if folder.wire_name.upper() == "INBOX":
            folder.role = "inbox"
    taken = {folder.role for folder in folders if folder.role}
    for role, names in ROLE_NAMES.items():
        if role in taken:
            continue
        for folder in folders:
            leaf = _leaf(folder).casefold()
            if folder.role is None and folder.selectable and leaf in names:
                folder.role = role
                break


def _leaf(folder: RemoteFolder) -> str:
    if folder.delimiter:
        return folder.name.rsplit(folder.delimiter, 1)[-1]
    return folder.name


def reconcile_folders(
    session: Session, account: Account, remote: list[RemoteFolder]
) -> list[tuple[Folder, RemoteFolder]]:
    """Follow new, renamed and deleted folders; the live (row, remote) pairs to sync.

    Dovecot keeps UIDVALIDITY on rename, so a name that vanished and a new name
    with the same UIDVALIDITY are one folder renamed (RFC 3501 6.3.5 allows it).
    """
    rows = {row.wire_name: row for row in session.scalars(
        select(Folder).where(Folder.account_id == account.id)
    )}
    remote_names = {folder.wire_name for folder in remote}
    vanished = {
        row.uidvalidity: row for name, row in rows.items()
        if name not in remote_names and row.deleted_at is None and row.uidvalidity
    }
    pairs = []
    for folder in remote:
        row = rows.get(folder.wire_name)
        if row is None and folder.uidvalidity in vanished:
            row = vanished.pop(folder.uidvalidity)
            log.info("folder renamed account=%s from=%r to=%r",
                     account.name, row.name, folder.name)
        elif row is None:
            row = Folder(account_id=account.id, wire_name=folder.wire_name)
            session.add(row)
            log.info("folder found account=%s folder=%r", account.name, folder.name)
        _describe(row, folder)
        pairs.append((row, folder))
    for row in vanished.values():
        mark_folder_deleted(session, row)
    for name, row in rows.items():
        if name not in remote_names and row.deleted_at is None and not row.uidvalidity:
            mark_folder_deleted(session, row)
    session.flush()
    return [(row, folder) for row, folder in pairs
            if folder.selectable and folder.uidvalidity is not None]


def _describe(row: Folder, folder: RemoteFolder) -> None:
    row.wire_name = folder.wire_name
    row.name = folder.name
    row.delimiter = folder.delimiter
    row.role = folder.role
    row.selectable = folder.selectable
    row.deleted_at = None


def mark_folder_deleted(session: Session, row: Folder) -> None:
    """The folder is gone from the server: mark it and its messages there deleted."""
    now = utcnow()
    row.deleted_at = now
    session.execute(
        update(MessageLocation)
        .where(
            MessageLocation.folder_id == row.id,
            MessageLocation.deleted_at.is_(None),
        )
        .values(deleted_at=now)
    )
    log.info("folder deleted on server folder_id=%s folder=%r", row.id, row.name)

"""Changes made in the inbox, written back to the IMAP server first.

The server is the truth: a change is sent there, and only once it succeeds is the
copy here updated. Flags change with +FLAGS / -FLAGS (RFC 3501 6.4.6), which touch
only the flag asked for, so a flag set meanwhile by another client is kept; the
flags stored here are then taken from the server's answer, merging both changes.
A message moved or deleted meanwhile on the server is reported, never re-created.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from typing import Iterator

from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.errors import ImapActionError
from mailservice.inbox.flags import DELETED, format_flags
from mailservice.inbox.folders import folder_of_role
from mailservice.messages.models import MessageLocation

log = logging.getLogger(__name__)

COPYUID = re.compile(rb"(\d+) (\S+) (\S+)")
NO_FOLDER = {
    "archive": "this mailbox has no archive folder",
    "trash": "this mailbox has no trash folder",
}


def change_flags(
    session: Session,
    settings: Settings,
    location: MessageLocation,
    add: set[str] = frozenset(),
    remove: set[str] = frozenset(),
) -> set[str]:
    """Add and remove flags of one copy on the server; returns its flags now."""
    folder = session.get(Folder, location.folder_id)
    with _selected(session, settings, folder, location) as client:
        answer = {}
        if add:
            answer = client.add_flags([location.uid], sorted(add)) or {}
        if remove:
            answer = client.remove_flags([location.uid], sorted(remove)) or {}
        flags = answer.get(location.uid)
        if flags is None:
            flags = client.get_flags([location.uid]).get(location.uid)
        if flags is None:
            _gone(location)
    now = {_text(flag) for flag in flags}
    location.flags = format_flags(now)
    log.info(
        "flags changed folder=%s uid=%s add=%s remove=%s",
        folder.id,
        location.uid,
        sorted(add),
        sorted(remove),
    )
    return now


def move_message(
    session: Session,
    settings: Settings,
    location: MessageLocation,
    target: Folder,
) -> MessageLocation | None:
    """Move one copy to another folder of the same account; the new copy if known."""
    source = session.get(Folder, location.folder_id)
    if target.account_id != source.account_id:
        raise ImapActionError("a message can only be moved within its own mailbox")
    if target.id == source.id:
        return location
    with _selected(session, settings, source, location) as client:
        copied = _move_on_server(client, location.uid, target.wire_name)
    location.deleted_at = utcnow()
    log.info(
        "message moved from folder=%s uid=%s to folder=%s",
        source.id,
        location.uid,
        target.id,
    )
    return _record_copy(session, location, target, copied)


def move_to_role(
    session: Session,
    settings: Settings,
    location: MessageLocation,
    role: str,
) -> MessageLocation | None:
    """Move a copy to the account's folder with this role (archive, trash)."""
    source = session.get(Folder, location.folder_id)
    target = folder_of_role(session, source.account_id, role)
    if target is None:
        raise ImapActionError(NO_FOLDER.get(role, f"this mailbox has no {role} folder"))
    return move_message(session, settings, location, target)


def _move_on_server(client, uid: int, target: str) -> tuple[int, int] | None:
    client._imap.untagged_responses.pop("COPYUID", None)
    if client.has_capability("MOVE"):
        client.move([uid], target)  # RFC 6851
    else:
        client.copy([uid], target)
        client.add_flags([uid], [DELETED])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([uid])  # RFC 4315: expunges only this message
        # TODO: without UIDPLUS the copy stays flagged \Deleted here; a plain
        # EXPUNGE would also remove messages other clients marked deleted.
    return _copyuid(client)


def _copyuid(client) -> tuple[int, int] | None:
    # RFC 4315 3: [COPYUID uidvalidity source-uids dest-uids] names the new copy.
    found = client._imap.untagged_responses.pop("COPYUID", None)
    match = COPYUID.match(found[-1]) if found else None
    if match is None or not match.group(3).isdigit():
        return None
    return int(match.group(1)), int(match.group(3))


def _record_copy(session, location, target, copied) -> MessageLocation | None:
    if copied is None:
        return None  # the next sync of the target folder records it
    uidvalidity, uid = copied
    existing = (
        session.query(MessageLocation)
        .filter_by(folder_id=target.id, uidvalidity=uidvalidity, uid=uid)
        .one_or_none()
    )
    if existing is not None:
        return existing
    moved = MessageLocation(
        message_id=location.message_id,
        folder_id=target.id,
        uidvalidity=uidvalidity,
        uid=uid,
        raw_sha256=location.raw_sha256,
        flags=location.flags,
    )
    session.add(moved)
    session.flush()
    return moved


@contextmanager
def _selected(session, settings, folder: Folder, location: MessageLocation) -> Iterator:
    from mailservice.sync.imap import connect  # the sync engine's connection seam

    if location.deleted_at is not None:
        raise ImapActionError("this message is no longer in that folder")
    account = session.get(Account, folder.account_id)
    client = connect(account, settings)
    try:
        selected = client.select_folder(folder.wire_name)
        if selected.get(b"UIDVALIDITY") != location.uidvalidity:
            raise ImapActionError(
                "the folder was renumbered on the server; wait for the next sync"
            )
        if not client.search(["UID", str(location.uid)]):
            _gone(location)
        yield client
    finally:
        _logout(client)


def _gone(location: MessageLocation) -> None:
    log.info(
        "message gone on server folder=%s uid=%s", location.folder_id, location.uid
    )
    raise ImapActionError(
        "the message was moved or deleted on the server meanwhile; "
        "the next sync shows where it is now"
    )


def _logout(client) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the change is done; a dropped logout is not
        log.debug("logout after action failed", exc_info=True)


def _text(flag) -> str:
    return flag.decode() if isinstance(flag, bytes) else str(flag)

"""The accounts and folders a user sees, with their unread counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.inbox.flags import UNREAD_LIVE
from mailservice.users.access import Access

# Folders with a known role come first, in the order mail clients show them.
ROLE_ORDER = {"inbox": 0, "drafts": 1, "sent": 2, "archive": 3, "junk": 4, "trash": 5}


@dataclass
class FolderEntry:
    """A folder in the side list."""

    id: int
    account_id: int
    name: str
    role: str | None
    unread: int = 0


@dataclass
class AccountEntry:
    """An account with its folders."""

    id: int
    name: str
    email: str | None
    folders: list[FolderEntry] = field(default_factory=list)

    @property
    def unread(self) -> int:
        """Unread messages in the account's inbox (what a badge shows)."""
        return sum(f.unread for f in self.folders if f.role == "inbox")


def mailbox_tree(session: Session, access: Access) -> list[AccountEntry]:
    """The visible accounts with their live folders and unread counts."""
    if not access.account_ids:
        return []
    accounts = {
        row.id: AccountEntry(row.id, row.name, row.email)
        for row in session.execute(
            select(Account.id, Account.name, Account.email)
            .where(Account.id.in_(access.account_ids))
            .order_by(Account.name)
        )
    }
    folders = _folders(session, list(accounts))
    counts = unread_counts(session, [f.id for f in folders])
    for folder in folders:
        folder.unread = counts.get(folder.id, 0)
        accounts[folder.account_id].folders.append(folder)
    return list(accounts.values())


def unread_counts(session: Session, folder_ids: list[int]) -> dict[int, int]:
    """Unread live messages per folder id (reads only the partial unread index)."""
    if not folder_ids:
        return {}
    dialect = session.get_bind().dialect.name
    # SQLite's planner prefers the wider folder index and then reads every row;
    # INDEXED BY holds it to the partial index (0.6 ms against 40 ms at 100k).
    hint = " INDEXED BY ix_message_locations_unread" if dialect == "sqlite" else ""
    statement = text(
        f"SELECT folder_id, count(*) FROM message_locations{hint} "
        f"WHERE folder_id IN :ids AND {UNREAD_LIVE[dialect]} GROUP BY folder_id"
    ).bindparams(bindparam("ids", expanding=True))
    rows = session.execute(statement, {"ids": list(folder_ids)})
    return {folder_id: count for folder_id, count in rows}


def folder_of_role(session: Session, account_id: int, role: str) -> Folder | None:
    """The live folder with this role in an account (inbox, archive, trash...)."""
    return session.scalar(
        select(Folder)
        .where(Folder.account_id == account_id, Folder.role == role)
        .where(Folder.deleted_at.is_(None))
        .order_by(Folder.id)
        .limit(1)
    )


def _folders(session: Session, account_ids: list[int]) -> list[FolderEntry]:
    rows = session.execute(
        select(Folder.id, Folder.account_id, Folder.name, Folder.role).where(
            Folder.account_id.in_(account_ids),
            Folder.deleted_at.is_(None),
            Folder.selectable.is_(True),
        )
    )
    entries = [FolderEntry(*row) for row in rows]
    entries.sort(key=lambda f: (ROLE_ORDER.get(f.role or "", 9), f.name.casefold()))
    return entries

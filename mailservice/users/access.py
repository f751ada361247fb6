"""Which mailboxes a user may read: every check of mail access goes through here.

Admins and managers read every account; staff only the accounts granted to them.
A message is visible when any of its copies sits in a folder of a visible account.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, select, true
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.errors import AccessDeniedError
from mailservice.messages.models import Message, MessageLocation
from mailservice.users.models import AccountGrant, User


@dataclass(frozen=True)
class Access:
    """The accounts one user may read, fixed for one request."""

    user_id: int
    account_ids: tuple[int, ...]
    sees_all: bool

    def messages(self) -> ColumnElement[bool]:
        """SQL condition on `Message`: a visible account holds a copy of it."""
        if self.sees_all:
            return true()
        return exists().where(
            MessageLocation.message_id == Message.id,
            MessageLocation.folder_id == Folder.id,
            Folder.account_id.in_(self.account_ids),
        )

    def require_account(self, account_id: int) -> None:
        """Raise AccessDeniedError unless the account is visible."""
        if account_id not in self.account_ids:
            raise AccessDeniedError("this mailbox is not shared with you")

    def require_folder(self, session: Session, folder_id: int) -> Folder:
        """The folder, if it belongs to a visible account; else AccessDeniedError."""
        folder = session.get(Folder, folder_id)
        if folder is None or folder.account_id not in self.account_ids:
            raise AccessDeniedError("this folder is not shared with you")
        return folder

    def require_message(self, session: Session, message_id: int) -> Message:
        """The message, if a visible account holds it; else AccessDeniedError."""
        message = session.scalar(
            select(Message).where(Message.id == message_id, self.messages())
        )
        if message is None:
            raise AccessDeniedError("this message is not in a mailbox shared with you")
        return message


def access_of(session: Session, user: User) -> Access:
    """The accounts `user` may read now."""
    if user.sees_all_accounts:
        ids = session.scalars(select(Account.id).order_by(Account.id))
    else:
        ids = session.scalars(
            select(AccountGrant.account_id)
            .where(AccountGrant.user_id == user.id)
            .order_by(AccountGrant.account_id)
        )
    return Access(user.id, tuple(ids), user.sees_all_accounts)

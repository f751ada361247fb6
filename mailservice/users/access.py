"""Which mailboxes a user may read: every check of mail access goes through here."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.errors import AccessDeniedError
from mailservice.messages.models import Message, MessageLocation
from mailservice.users.models import AccountGrant, User


def visible_account_ids(session: Session, user: User) -> list[int]:
    """Ids of the accounts whose mail `user` may read."""
    if user.sees_all_accounts:
        return list(session.scalars(select(Account.id).order_by(Account.id)))
    return list(
        session.scalars(
            select(AccountGrant.account_id)
            .where(AccountGrant.user_id == user.id)
            .order_by(AccountGrant.account_id)
        )
    )


def message_visible(account_ids: list[int]) -> ColumnElement[bool]:
    """SQL condition: the message in the query has a copy in one of these accounts."""
    return exists().where(
        MessageLocation.message_id == Message.id,
        MessageLocation.folder_id == Folder.id,
        Folder.account_id.in_(account_ids),
    )


def require_account(account_ids: list[int], account_id: int) -> None:
    """Raise AccessDeniedError unless the account is among the visible ones."""
    if account_id not in account_ids:
        raise AccessDeniedError("this mailbox is not shared with you")


def require_folder(session: Session, account_ids: list[int], folder_id: int) -> Folder:
    """The folder, if it belongs to a visible account; else AccessDeniedError."""
    folder = session.get(Folder, folder_id)
    if folder is None or folder.account_id not in account_ids:
        raise AccessDeniedError("this folder is not shared with you")
    return folder


def require_message(session: Session, account_ids: list[int], message_id: int) -> Message:
    """The message, if a visible account holds it; else AccessDeniedError."""
    visible = session.scalar(
        select(Message).where(Message.id == message_id, message_visible(account_ids))
    )
    if visible is None:
        raise AccessDeniedError("this message is not in a mailbox shared with you")
    return visible


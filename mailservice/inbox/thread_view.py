"""A thread as staff read it: every visible message, in every folder, oldest first."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from mailservice.accounts.models import Folder
from mailservice.contacts.models import Contact, MessageContact
from mailservice.errors import AccessDeniedError
from mailservice.inbox.flags import FLAGGED, SEEN, parse_flags
from mailservice.inbox.models import ThreadState
from mailservice.messages.models import Attachment, Message, MessageLocation
from mailservice.threads.models import Thread
from mailservice.users.access import Access


@dataclass
class LocationView:
    """A copy of a message in one folder, with its flags there."""

    id: int
    folder_id: int
    folder_name: str
    account_id: int
    flags: set[str]
    role: str | None = None

    @property
    def name(self) -> str:
        """The folder's name (what folder_label shows for a folder without role)."""
        return self.folder_name


@dataclass
class MessageView:
    """One message of a thread with what the page shows of it."""

    message: Message
    locations: list[LocationView]
    attachments: list[Attachment]
    contacts: list[tuple[int, str]] = field(default_factory=list)

    @property
    def unread(self) -> bool:
        """Unread where it is unread in any visible folder."""
        return any(SEEN not in loc.flags for loc in self.locations)

    @property
    def flagged(self) -> bool:
        """Flagged in any visible folder."""
        return any(FLAGGED in loc.flags for loc in self.locations)

    def addresses(self, role: str) -> list:
        """The header addresses of one role (from, to, cc...)."""
        return [a for a in self.message.addresses if a.role == role]


@dataclass
class ThreadView:
    """A thread, its visible messages and its work state."""

    thread: Thread
    messages: list[MessageView]
    state: ThreadState | None


def load_thread(session: Session, access: Access, thread_id: int) -> ThreadView:
    """The thread with its visible messages; AccessDeniedError when none is visible."""
    thread = session.get(Thread, thread_id)
    messages = list(
        session.scalars(
            select(Message)
            .where(Message.thread_id == thread_id, access.messages())
            .options(selectinload(Message.addresses))
            .order_by(Message.sent_at, Message.id)
        )
    )
    if thread is None or not messages:
        raise AccessDeniedError("this thread is not in a mailbox shared with you")

    ids = [m.id for m in messages]
    locations = _locations(session, access, ids)
    attachments = _attachments(session, ids)
    contacts = _contacts(session, ids)
    views = [
        MessageView(
            m,
            locations.get(m.id, []),
            attachments.get(m.id, []),
            contacts.get(m.id, []),
        )
        for m in messages
    ]
    return ThreadView(thread, views, session.get(ThreadState, thread_id))


def _locations(session: Session, access: Access, ids: list[int]) -> dict:
    rows = session.execute(
        select(MessageLocation, Folder.name, Folder.account_id, Folder.role)
        .join(Folder, Folder.id == MessageLocation.folder_id)
        .where(
            MessageLocation.message_id.in_(ids),
            MessageLocation.deleted_at.is_(None),
            Folder.account_id.in_(access.account_ids),
        )
        .order_by(MessageLocation.id)
    )
    found: dict[int, list[LocationView]] = {}
    for location, folder_name, account_id, role in rows:
        found.setdefault(location.message_id, []).append(
            LocationView(
                location.id,
                location.folder_id,
                folder_name,
                account_id,
                parse_flags(location.flags),
                role,
            )
        )
    return found


def _attachments(session: Session, ids: list[int]) -> dict:
    found: dict[int, list[Attachment]] = {}
    rows = session.scalars(
        select(Attachment).where(Attachment.message_id.in_(ids)).order_by(Attachment.id)
    )
    for attachment in rows:
        found.setdefault(attachment.message_id, []).append(attachment)
    return found


def _contacts(session: Session, ids: list[int]) -> dict:
    found: dict[int, list[tuple[int, str]]] = {}
    rows = session.execute(
        select(MessageContact.message_id, Contact.id, Contact.name)
        .join(Contact, Contact.id == MessageContact.contact_id)
        .where(MessageContact.message_id.in_(ids))
        .order_by(Contact.name)
    )
    for message_id, contact_id, name in rows:
        found.setdefault(message_id, []).append((contact_id, name))
    return found

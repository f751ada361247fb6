"""A contact's page: its data and people, and its whole mail history, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from mailservice.contacts.models import Contact, ContactAddress, MessageContact
from mailservice.errors import NotFoundError
from mailservice.inbox.rows import fill_rows
from mailservice.inbox.thread_list import (
    PAGE_SIZE,
    Cursor,
    ThreadPage,
    thread_page,
    walk_pays,
)
from mailservice.messages.models import Message
from mailservice.threads.models import Thread
from mailservice.users.access import Access


@dataclass
class ContactPage:
    """A contact and one page of the threads of its visible mail."""

    contact: Contact
    threads: ThreadPage


def contact_page(
    session: Session,
    access: Access,
    contact_id: int,
    cursor: Cursor | None = None,
    size: int = PAGE_SIZE,
) -> ContactPage:
    """The contact with one page of its history, limited to mail the user may read."""
    contact = session.scalar(
        select(Contact)
        .where(Contact.id == contact_id)
        .options(
            selectinload(Contact.people),
            selectinload(Contact.addresses).selectinload(ContactAddress.person),
            selectinload(Contact.domains),
        )
    )
    if contact is None:
        raise NotFoundError(f"no contact with id {contact_id}")

    page = thread_page(session, _linked(session, access, contact_id), cursor, size)
    page.rows = fill_rows(session, page.rows, visible=access.messages())
    return ContactPage(contact, page)


def _linked(session: Session, access: Access, contact_id: int):
    # The same two plans as a folder's thread list (see thread_list): walk the
    # threads by date for a contact with much mail, else collect its threads.
    links = select(MessageContact.id).where(MessageContact.contact_id == contact_id)
    if walk_pays(session, links):
        return exists().where(
            Message.thread_id == Thread.id,
            MessageContact.message_id == Message.id,
            MessageContact.contact_id == contact_id,
            access.messages(),
        )
    return Thread.id.in_(
        select(Message.thread_id)
        .join(MessageContact, MessageContact.message_id == Message.id)
        .where(MessageContact.contact_id == contact_id, access.messages())
    )

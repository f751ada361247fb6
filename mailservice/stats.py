"""Counts over the synced data: what `mailservice stats` and the demo print."""

from __future__ import annotations

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.contacts.models import Contact, MessageContact
from mailservice.messages.models import QUARANTINED, Message, MessageLocation
from mailservice.threads.models import Thread


def collect_stats(session: Session) -> dict[str, int]:
    """One dictionary of counts: folders, messages, quarantined, threads, links."""
    linked = exists().where(MessageContact.message_id == Message.id)
    live_location = exists().where(
        MessageLocation.message_id == Message.id, MessageLocation.deleted_at.is_(None)
    )

    def count(statement) -> int:
        return int(session.scalar(statement) or 0)

    messages = count(select(func.count(Message.id)))
    linked_messages = count(select(func.count(Message.id)).where(linked))
    return {
        "accounts": count(select(func.count(Account.id))),
        "folders": count(select(func.count(Folder.id)).where(Folder.deleted_at.is_(None))),
        "messages": messages,
        "messages_on_server": count(select(func.count(Message.id)).where(live_location)),
        "locations": count(
            select(func.count(MessageLocation.id)).where(
                MessageLocation.deleted_at.is_(None)
            )
        ),
        "quarantined": count(
            select(func.count(Message.id)).where(Message.parse_status == QUARANTINED)
        ),
        "threads": count(select(func.count(Thread.id))),
        "contacts": count(select(func.count(Contact.id))),
        "linked_messages": linked_messages,
        "unlinked_messages": messages - linked_messages,
    }

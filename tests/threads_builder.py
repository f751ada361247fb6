"""Building synced messages for the threading tests, as the ingest leaves them.

`Mailbox.arrive(spec)` inserts one message with its references, addresses,
contact links and location, threads it, and commits: one sync batch.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from mailservice.accounts.models import Account, Folder
from mailservice.contacts.models import Contact, MessageContact
from mailservice.messages.models import (
    Message,
    MessageAddress,
    MessageLocation,
    MessageReference,
)
from mailservice.threads.models import Thread
from mailservice.threads.subject import normalize_subject
from mailservice.threads.threader import thread_messages

DAY0 = datetime(2026, 11, 2, 9, 15, tzinfo=timezone.utc)
OWN = "biuro@firma.pl"
CUSTOMER = "jan.kowalski@budmat.pl"
STRANGER = "ktos@obcy.example"


def day(n: float) -> datetime:
    """A date n days after the first message of every scenario."""
    return DAY0 + timedelta(days=n)


@dataclass
class Mail:
    """One message as a test describes it."""

    key: str
    subject: str = "Faktura 12/2026"
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    sent_at: datetime | None = DAY0
    sender: str = CUSTOMER
    to: list[str] = field(default_factory=lambda: [OWN])
    cc: list[str] = field(default_factory=list)
    thread_index: str | None = None
    contacts: list[int] = field(default_factory=list)
    folder: tuple[str, str] = ("biuro", "INBOX")
    flags: str = ""


class Mailbox:
    """Inserts mails the way the sync does, one committed batch at a time."""

    def __init__(self, session, settings) -> None:
        self.session = session
        self.settings = settings
        self.ids: dict[str, int] = {}
        self._folders: dict[tuple[str, str], int] = {}
        self._uid = 0
        self.account("biuro", OWN)

    def account(self, name: str, email: str) -> Account:
        """An account whose own address is `email`."""
        account = Account(
            name=name, email=email, imap_host="127.0.0.1", imap_port=143,
            imap_security="none", username=email, secret_encrypted="x",
        )
        self.session.add(account)
        self.session.flush()
        return account

    def contact(self, name: str) -> int:
        """A new contact's id."""
        contact = Contact(name=name)
        self.session.add(contact)
        self.session.flush()
        return contact.id

    def arrive(self, *mails: Mail) -> list[int]:
        """Insert the mails as one batch, thread it, commit; returns the ids."""
        ids = [self._insert(mail) for mail in mails]
        self.session.flush()
        thread_messages(self.session, self.settings, ids)
        self.session.commit()
        return ids

    def thread_of(self, key: str) -> int | None:
        """The thread id of a mail, read from the database."""
        return self.session.scalar(
            select(Message.thread_id).where(Message.id == self.ids[key])
        )

    def threads(self) -> list[Thread]:
        """Every thread, lowest id first."""
        return list(self.session.scalars(select(Thread).order_by(Thread.id)))

    def _insert(self, mail: Mail) -> int:
        message = Message(
            identity_key=hashlib.sha256(mail.key.encode()).hexdigest(),
            raw_sha256=hashlib.sha256(mail.key.encode()).hexdigest(),
            size=100,
            message_id_header=mail.message_id,
            in_reply_to=mail.in_reply_to,
            thread_index=mail.thread_index,
            subject=mail.subject,
            normalized_subject=normalize_subject(mail.subject),
            from_address=mail.sender,
            sent_at=mail.sent_at,
        )
        self.session.add(message)
        self.session.flush()
        self.ids[mail.key] = message.id

        refs = dict.fromkeys(mail.references)
        if mail.in_reply_to:
            refs[mail.in_reply_to] = None
        self.session.add_all(
            MessageReference(message_id=message.id, referenced_id=r) for r in refs
        )
        roles = (("from", [mail.sender]), ("to", mail.to), ("cc", mail.cc))
        for role, addresses in roles:
            self.session.add_all(_address(message.id, role, a) for a in addresses)
        self.session.add_all(
            MessageContact(message_id=message.id, contact_id=c, via="address")
            for c in mail.contacts
        )
        self._locate(message.id, mail)
        return message.id

    def _locate(self, message_id: int, mail: Mail) -> None:
        self._uid += 1
        self.session.add(
            MessageLocation(
                message_id=message_id, folder_id=self._folder(*mail.folder),
                uidvalidity=1, uid=self._uid, raw_sha256="x", flags=mail.flags,
            )
        )

    def _folder(self, account_name: str, folder_name: str) -> int:
        key = (account_name, folder_name)
        if key not in self._folders:
            account = self.session.scalar(
                select(Account).where(Account.name == account_name)
            )
            folder = Folder(
                account_id=account.id, wire_name=folder_name, name=folder_name
            )
            self.session.add(folder)
            self.session.flush()
            self._folders[key] = folder.id
        return self._folders[key]


def _address(message_id: int, role: str, address: str) -> MessageAddress:
    return MessageAddress(
        message_id=message_id, role=role, address=address,
        address_norm=address.lower(), domain=address.rpartition("@")[2].lower(),
    )

"""Mail put straight into the database the way sync, parsing, linking and threading
leave it, so web tests need no IMAP server unless they test IMAP actions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.config import Settings
from mailservice.contacts.models import Contact, ContactAddress, MessageContact
from mailservice.inbox.search_index import index_messages
from mailservice.messages.models import (
    PARSED,
    Attachment,
    Message,
    MessageAddress,
    MessageLocation,
)
from mailservice.store.raw import RawStore
from mailservice.threads.models import Thread

START = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


@dataclass
class MailBuilder:
    """Adds accounts, folders, threads and messages; remembers what it made."""

    session: Session
    settings: Settings
    counter: int = 0
    folders: dict[str, Folder] = field(default_factory=dict)

    def account(
        self, name: str, roles=("inbox", "sent", "archive", "trash")
    ) -> Account:
        """An account with one folder per role, named like Dovecot's."""
        account = Account(
            name=name,
            email=f"{name}@firma.test",
            imap_host="127.0.0.1",
            imap_port=143,
            imap_security="none",
            username=name,
            secret_encrypted="-",
        )
        self.session.add(account)
        self.session.flush()
        names = {
            "inbox": "INBOX",
            "sent": "Sent",
            "archive": "Archive",
            "trash": "Trash",
        }
        for role in roles:
            folder = Folder(
                account_id=account.id,
                wire_name=names[role],
                name=names[role],
                role=role,
                uidvalidity=1,
                last_uid=0,
            )
            self.session.add(folder)
            self.folders[f"{name}/{role}"] = folder
        self.session.flush()
        return account

    def thread(self, subject: str) -> Thread:
        """An empty thread; messages added to it update its dates."""
        thread = Thread(
            subject=subject, normalized_subject=subject.lower(), message_count=0
        )
        self.session.add(thread)
        self.session.flush()
        return thread

    def message(
        self,
        folder: str,
        thread: Thread,
        *,
        subject: str | None = None,
        sender: tuple[str, str] = ("Jan Kowalski", "jan@klient.test"),
        text: str = "Dzień dobry",
        html: str | None = None,
        seen: bool = False,
        attachments: list[tuple[str, str, bytes]] = (),
        contact: Contact | None = None,
        inline_images: list[tuple[str, bytes]] = (),
    ) -> Message:
        """A parsed message in `folder` ("account/role"), raw bytes in the store."""
        self.counter += 1
        sent_at = START + timedelta(hours=self.counter)
        raw = _raw(
            subject or thread.subject,
            sender,
            text,
            html,
            attachments,
            inline_images,
            self.counter,
        )
        sha = RawStore(self.settings.effective_raw_store_dir, fsync=False).put(raw)
        message = Message(
            identity_key=hashlib.sha256(raw).hexdigest(),
            raw_sha256=sha,
            size=len(raw),
            message_id_header=f"<m{self.counter}@klient.test>",
            subject=subject or thread.subject,
            from_name=sender[0],
            from_address=sender[1],
            sent_at=sent_at,
            internal_date=sent_at,
            has_attachments=bool(attachments),
            parse_status=PARSED,
            snippet=text[:200],
            body_text=text,
            body_html=html,
            thread_id=thread.id,
        )
        self.session.add(message)
        self.session.flush()
        self._parts(message, attachments, inline_images)
        self._address(message, "from", *sender)
        self._address(message, "to", "Biuro", f"{folder.split('/')[0]}@firma.test")
        self.locate(message, folder, seen=seen)
        if contact is not None:
            self.session.add(
                MessageContact(
                    message_id=message.id, contact_id=contact.id, via="address"
                )
            )
        thread.message_count += 1
        thread.first_at = min(filter(None, [thread.first_at, sent_at]))
        thread.last_at = max(filter(None, [thread.last_at, sent_at]))
        self.session.flush()
        index_messages(self.session, [message.id])
        return message

    def locate(
        self, message: Message, folder: str, seen: bool = False, uid: int | None = None
    ) -> MessageLocation:
        """Another copy of a message in a folder."""
        target = self.folders[folder]
        target.last_uid = uid or target.last_uid + 1
        location = MessageLocation(
            message_id=message.id,
            folder_id=target.id,
            uidvalidity=target.uidvalidity,
            uid=target.last_uid,
            raw_sha256=message.raw_sha256,
            flags="\\Seen" if seen else "",
        )
        self.session.add(location)
        self.session.flush()
        return location

    def contact(self, name: str, address: str) -> Contact:
        """A company contact owning one address."""
        contact = Contact(name=name, kind="company")
        contact.addresses.append(ContactAddress(address=address, address_norm=address))
        self.session.add(contact)
        self.session.flush()
        return contact

    def _address(self, message, role, name, address) -> None:
        self.session.add(
            MessageAddress(
                message_id=message.id,
                role=role,
                name=name,
                address=address,
                address_norm=address.lower(),
                domain=address.split("@")[-1].lower(),
            )
        )

    def _parts(self, message, attachments, inline_images) -> None:
        # Part numbers follow _raw's layout: 1 is the body, then attachments.
        number = 1
        for filename, content_type, data in attachments:
            number += 1
            self.session.add(
                Attachment(
                    message_id=message.id,
                    filename=filename,
                    content_type=content_type,
                    size=len(data),
                    part_path=str(number),
                )
            )
        for content_id, data in inline_images:
            number += 1
            self.session.add(
                Attachment(
                    message_id=message.id,
                    filename=f"{content_id}.png",
                    content_type="image/png",
                    size=len(data),
                    content_id=f"<{content_id}>",
                    is_inline=True,
                    part_path=str(number),
                )
            )


def _raw(subject, sender, text, html, attachments, inline_images, n) -> bytes:
    # Layout: part 1 is the body, then the attachments, then inline images.
    mail = EmailMessage()
    mail["From"] = f"{sender[0]} <{sender[1]}>"
    mail["To"] = "biuro@firma.test"
    mail["Subject"] = subject
    mail["Message-ID"] = f"<m{n}@klient.test>"
    if html:
        mail.set_content(html, subtype="html")
    else:
        mail.set_content(text)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for content_id, data in inline_images:
        mail.add_attachment(
            data,
            maintype="image",
            subtype="png",
            cid=f"<{content_id}>",
            disposition="inline",
        )
    return mail.as_bytes()

"""One recipient's message: merge fields, subject and body, their own PDF and files.

Templates are the mailing's sources run in the templating sandbox with the same
four objects as every message template (contact, person, sender, document);
a recipient's document fields come from their row of the recipient list.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.models import Contact, Person
from mailservice.errors import MailingError
from mailservice.mailings.files import FileIndex, read_upload, recipient_files
from mailservice.mailings.models import MARKETING, Mailing, MailingRecipient
from mailservice.mailings.unsubscribe import footer_html, unsubscribe_headers
from mailservice.templating.fields import (
    build_context,
    contact_fields,
    person_fields,
    sender_fields,
)
from mailservice.templating.rendering import render_body, render_source, render_subject

log = logging.getLogger(__name__)

PDF = "application/pdf"


@dataclass
class RenderedMessage:
    """What one recipient gets, ready to become an outgoing message."""

    subject: str
    html: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)


def sender_of(session: Session, settings: Settings, mailing: Mailing) -> dict:
    """The `sender` fields of a mailing: its author and its account."""
    from mailservice.users.models import User

    account = session.get(Account, mailing.account_id)
    user = session.get(User, mailing.author_user_id) if mailing.author_user_id else None
    return sender_fields(
        account,
        user.name if user else None,
        user.email if user else None,
        settings.company_name,
    )


def recipient_context(
    session: Session, recipient: MailingRecipient, sender: dict
) -> dict:
    """The template fields of one recipient."""
    contact = (
        session.get(Contact, recipient.contact_id) if recipient.contact_id else None
    )
    person = session.get(Person, recipient.person_id) if recipient.person_id else None
    person_values = person_fields(person, recipient.address or "")
    if person is None and recipient.name:
        first, _, last = recipient.name.partition(" ")
        person_values.update(name=recipient.name, first_name=first, last_name=last)
    return build_context(
        contact=contact_fields(contact),
        person=person_values,
        sender=sender,
        document=json.loads(recipient.fields or "{}"),
    )


def render_for(
    session: Session,
    settings: Settings,
    mailing: Mailing,
    recipient: MailingRecipient,
    sender: dict,
    *,
    index: FileIndex | None = None,
    unsubscribe_id: int | None = None,
) -> RenderedMessage:
    """Render a recipient's message (PDF included); TemplateError and the like
    say what is wrong with this recipient."""
    context = recipient_context(session, recipient, sender)
    subject = render_subject(mailing.subject_source, context)
    html, _text = render_body(mailing.body_source, context)
    rendered = RenderedMessage(subject, html)

    if mailing.document_source:
        rendered.attachments.append(_document(mailing, context))
    for upload in recipient_files(session, mailing, recipient, index):
        rendered.attachments.append(
            (upload.filename, upload.content_type, read_upload(settings, upload))
        )
    if mailing.kind == MARKETING:
        token_id = recipient.id if unsubscribe_id is None else unsubscribe_id
        rendered.html += footer_html(settings, token_id, mailing.locale)
        rendered.headers = unsubscribe_headers(settings, token_id)
    return rendered


def _document(mailing: Mailing, context: dict) -> tuple[str, str, bytes]:
    from mailservice.documents.render import render_pdf

    source_html = render_source(
        mailing.document_source, context, html=True, what="document"
    )
    name = render_source(
        mailing.document_filename or "dokument.pdf",
        context,
        html=False,
        what="document file name",
    )
    return _file_name(name), PDF, render_pdf(source_html)


def _file_name(name: str) -> str:
    # A document number such as FS/2026/11/042 must not become a folder path.
    name = re.sub(r"[/\\\r\n\t]+", "_", " ".join(name.split())).strip(" ._")
    if not name:
        raise MailingError("the document file name template gives an empty name")
    return name if name.lower().endswith(".pdf") else f"{name}.pdf"

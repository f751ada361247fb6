"""Before the real send: the message as a chosen recipient gets it, and a test
send of that message to one's own address (it changes nothing for the recipient:
its unsubscribe link is a test link, and it is not in the contact's history)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.errors import MailingError
from mailservice.mailings.message import recipient_context, render_for, sender_of
from mailservice.mailings.recipients import get_mailing, recipient_at
from mailservice.mailings.unsubscribe import TEST_RECIPIENT
from mailservice.outbound.compose import add_attachment, create_draft
from mailservice.outbound.models import OutgoingMessage
from mailservice.outbound.queueing import queue_draft
from mailservice.templating.signatures import render_signature_version, signature_for
from mailservice.templating.text import html_to_text

log = logging.getLogger(__name__)

TEST_PREFIX = "[TEST] "


@dataclass
class Preview:
    """One recipient's message as it will go out (before MIME and DKIM)."""

    position: int
    to: str
    subject: str
    html: str
    text: str
    attachments: list[tuple[str, str, bytes]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)


def preview_message(
    session: Session, settings: Settings, mailing_id: int, position: int
) -> Preview:
    """The message recipient number `position` gets, signature and files included."""
    mailing = get_mailing(session, mailing_id)
    recipient = recipient_at(session, mailing_id, position)
    sender = sender_of(session, settings, mailing)
    # The preview's unsubscribe link is a test link: a click on it while
    # checking the message must not unsubscribe the recipient.
    rendered = render_for(
        session, settings, mailing, recipient, sender, unsubscribe_id=TEST_RECIPIENT
    )
    html = rendered.html
    if mailing.include_signature:
        version = signature_for(
            session, mailing.account_id, mailing.author_user_id, mailing.locale
        )
        context = recipient_context(session, recipient, sender)
        signature_html, _text = render_signature_version(version, context)
        html = f"{html}\n{signature_html}"
    to = (
        f"{recipient.name} <{recipient.address}>"
        if recipient.name
        else (recipient.address or "(no address)")
    )
    return Preview(
        position,
        to,
        rendered.subject,
        html,
        html_to_text(html),
        rendered.attachments,
        rendered.headers,
    )


def send_test(
    session: Session,
    settings: Settings,
    mailing_id: int,
    position: int,
    address: str,
    author_user_id: int | None = None,
) -> OutgoingMessage:
    """Queue recipient `position`'s message to `address` instead, marked as a test."""
    mailing = get_mailing(session, mailing_id)
    recipient = recipient_at(session, mailing_id, position)
    if not address.strip():
        raise MailingError("a test send needs your address")
    rendered = render_for(
        session,
        settings,
        mailing,
        recipient,
        sender_of(session, settings, mailing),
        unsubscribe_id=TEST_RECIPIENT,
    )
    draft = create_draft(
        session,
        settings,
        account_id=mailing.account_id,
        author_user_id=author_user_id or mailing.author_user_id,
        to=[address],
        subject=TEST_PREFIX + rendered.subject,
        body_html=rendered.html,
        automatic=True,
    )
    draft.include_signature = mailing.include_signature
    for filename, content_type, data in rendered.attachments:
        add_attachment(session, settings, draft.id, filename, content_type, data)
    queue_draft(session, settings, draft.id, mailing.locale, rendered.headers)
    log.info(
        "mailing=%s test send of recipient %d as outgoing=%s",
        mailing_id,
        position,
        draft.id,
    )
    return draft

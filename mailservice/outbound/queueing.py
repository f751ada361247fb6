"""Turning a draft into a queued message: render, build, sign, spool, then enqueue.

Order matters for "no message lost": the rendered bytes are in the spool and the
row says `queued` in the same transaction the caller commits; the job is sent
only after that commit: the database is the truth.
"""

from __future__ import annotations

import logging
from typing import Sequence

from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.models import Contact, Person
from mailservice.db.base import utcnow
from mailservice.errors import OutboundError
from mailservice.jobs.dispatch import enqueue_after_commit
from mailservice.messages.models import Message
from mailservice.outbound import dkim
from mailservice.outbound.compose import (
    Recipient,
    add_attachment,
    create_draft,
    get_draft,
)
from mailservice.outbound.mime import Envelope, Part, build_message
from mailservice.outbound.models import QUEUED, OutgoingMessage
from mailservice.outbound.spool import Spool
from mailservice.templating.fields import (
    build_context,
    contact_fields,
    person_fields,
    sender_fields,
)
from mailservice.templating.signatures import render_signature_version, signature_for
from mailservice.templating.text import html_to_text

log = logging.getLogger(__name__)


def sender_context(
    session: Session, settings: Settings, draft: OutgoingMessage
) -> dict:
    """The template fields for a draft: its contact, person and sender."""
    from mailservice.users.models import User

    account = session.get(Account, draft.account_id)
    user = session.get(User, draft.author_user_id) if draft.author_user_id else None
    contact = session.get(Contact, draft.contact_id) if draft.contact_id else None
    person = session.get(Person, draft.person_id) if draft.person_id else None
    first_to = next((r.address for r in draft.recipients if r.role == "to"), "")
    return build_context(
        contact=contact_fields(contact),
        person=person_fields(person, first_to),
        sender=sender_fields(
            account,
            user.name if user else draft.from_name,
            user.email if user else None,
            settings.company_name,
        ),
    )


def _final_bodies(session, settings, draft, locale: str) -> tuple[str, str]:
    html, text = draft.body_html, html_to_text(draft.body_html)
    if draft.include_signature:
        version = signature_for(session, draft.account_id, draft.author_user_id, locale)
        sig_html, sig_text = render_signature_version(
            version, sender_context(session, settings, draft)
        )
        draft.signature_version_id = version.id
        html = f"{html}\n{sig_html}"
        text = f"{text.rstrip()}\n\n{sig_text.strip()}\n"
    if draft.quoted_html:
        html = f"{html}\n{draft.quoted_html}"
        text = f"{text}\n{html_to_text(draft.quoted_html)}"
    return html, text


def _references(draft: OutgoingMessage) -> str:
    # A message that starts a conversation names itself in References: if the
    # provider replaces our Message-ID, a reply still carries ours there
    # (RFC 5322 3.6.4 has replies copy the parent's References).
    return draft.references or f"<{draft.message_id_header}>"


def render_draft(
    session: Session,
    settings: Settings,
    draft: OutgoingMessage,
    locale: str = "pl",
    extra_headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The exact bytes to send for a draft: MIME built, CSS inlined, DKIM-signed."""
    html, text = _final_bodies(session, settings, draft, locale)
    draft.body_text = text
    spool = Spool(settings.outbox_dir)
    parts = [
        Part(a.filename, a.content_type, spool.read_file(a.sha256), a.content_id)
        for a in draft.attachments
    ]
    envelope = Envelope(
        message_id=draft.message_id_header,
        from_name=draft.from_name,
        from_address=draft.from_address,
        to=[(r.name, r.address) for r in draft.recipients if r.role == "to"],
        cc=[(r.name, r.address) for r in draft.recipients if r.role == "cc"],
        subject=draft.subject,
        html=html,
        text=text,
        in_reply_to=draft.in_reply_to,
        references=_references(draft),
        automatic=draft.automatic,
        extra_headers=tuple(extra_headers),
    )
    raw = build_message(envelope, parts)
    return dkim.sign(raw, settings, draft.from_address.rpartition("@")[2])


def queue_draft(
    session: Session,
    settings: Settings,
    outgoing_id: int,
    locale: str = "pl",
    extra_headers: Sequence[tuple[str, str]] = (),
) -> OutgoingMessage:
    """Send a draft: bytes to the spool, the row to `queued`, the job after commit."""
    from mailservice.outbound.jobs import send_outgoing

    draft = get_draft(session, outgoing_id)
    if not draft.recipients:
        raise OutboundError(f"message {outgoing_id} has no recipient")
    _refuse_automatic_answer_to_automatic_mail(session, draft)
    raw = render_draft(session, settings, draft, locale, extra_headers)

    draft.spool_name = Spool(settings.outbox_dir).write_message(draft.id, raw)
    draft.size = len(raw)
    draft.state = QUEUED
    draft.queued_at = utcnow()
    session.flush()
    # Each job sends a batch of its account's rows, so a transaction that queues
    # many messages (a mailing, the CLI in a loop) sends one job per batch.
    enqueue_after_commit(
        session,
        send_outgoing,
        draft.id,
        group=draft.account_id,
        group_size=settings.send_batch_size,
    )
    log.info(
        "queued outgoing=%s account=%s recipients=%d size=%d",
        draft.id,
        draft.account_id,
        len(draft.recipients),
        len(raw),
    )
    return draft


send_draft = queue_draft


def _refuse_automatic_answer_to_automatic_mail(session, draft) -> None:
    # RFC 3834 2: automatic mail never answers automatic mail (mail loops,
    # vacation notices answering vacation notices).
    if not draft.automatic or draft.source_message_id is None:
        return
    source = session.get(Message, draft.source_message_id)
    if source is not None and source.is_auto_reply:
        raise OutboundError(
            f"message {draft.id} would automatically answer an automatic message "
            f"(message {source.id}); automatic replies are never answered automatically"
        )


def send_message(
    session: Session,
    settings: Settings,
    *,
    account_id: int,
    to: Sequence[Recipient],
    subject: str,
    body_html: str,
    cc: Sequence[Recipient] = (),
    bcc: Sequence[Recipient] = (),
    attachments: Sequence[tuple[str, str, bytes]] = (),
    automatic: bool = True,
    author_user_id: int | None = None,
    contact_id: int | None = None,
    person_id: int | None = None,
    include_signature: bool = True,
    locale: str = "pl",
) -> OutgoingMessage:
    """Compose and queue one message in a step: system mail and the CLI use this."""
    draft = create_draft(
        session,
        settings,
        account_id=account_id,
        author_user_id=author_user_id,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=subject,
        body_html=body_html,
        contact_id=contact_id,
        person_id=person_id,
        automatic=automatic,
    )
    draft.include_signature = include_signature
    for filename, content_type, data in attachments:
        add_attachment(session, settings, draft.id, filename, content_type, data)
    return queue_draft(session, settings, draft.id, locale)

"""Drafts that answer a synced message: reply, reply-all and forward.

A reply names its parent in In-Reply-To and carries the parent's References
followed by the parent's Message-ID (RFC 5322 3.6.4), so every mail client, and
our own threader, puts it in the same conversation.
"""

from __future__ import annotations

import email
import html
import logging
from email import policy

import nh3
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.contacts.models import MessageContact
from mailservice.errors import NotFoundError
from mailservice.messages.models import Message
from mailservice.outbound.compose import add_attachment, create_draft
from mailservice.outbound.headers import angle
from mailservice.outbound.models import FORWARD, REPLY, REPLY_ALL, OutgoingMessage
from mailservice.parsing.headers import parse_headers
from mailservice.store.raw import RawStore

log = logging.getLogger(__name__)

# Long threads would grow References without end; RFC 5322 allows trimming
# from the middle, keeping the first (the root) and the latest ids.
MAX_REFERENCES = 20
REPLY_PREFIXES = ("re:", "odp:", "aw:", "sv:")
FORWARD_PREFIXES = ("fwd:", "fw:", "pd:", "wg:")


def _source(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFoundError(f"no message {message_id} to answer")
    return message


def _raw(settings: Settings, message: Message) -> bytes:
    return RawStore(settings.effective_raw_store_dir).read(message.raw_sha256)


def _prefixed(prefix: str, subject: str | None, known: tuple[str, ...]) -> str:
    subject = (subject or "").strip()
    return (
        subject if subject.lower().startswith(known) else f"{prefix} {subject}".strip()
    )


def _references(parsed, parent_id: str | None) -> str | None:
    ids = [i for i in parsed.references if i]
    if parent_id and parent_id not in ids:
        ids.append(parent_id)
    if len(ids) > MAX_REFERENCES:
        ids = ids[:1] + ids[-(MAX_REFERENCES - 1) :]
    return " ".join(angle(i) for i in ids) or None


def _quote(message: Message, intro: str) -> str:
    if message.body_html:
        body = nh3.clean(message.body_html)
    else:
        body = html.escape(message.body_text or "").replace("\n", "<br>\n")
    intro_html = html.escape(intro).replace("\n", "<br>\n")
    return f"<p>{intro_html}</p>\n<blockquote>{body}</blockquote>"


def _own_addresses(session: Session) -> set[str]:
    return {a.lower() for a in session.scalars(select(Account.email)) if a}


def _contact_of(session: Session, message_id: int) -> int | None:
    return session.scalar(
        select(MessageContact.contact_id)
        .where(MessageContact.message_id == message_id)
        .order_by(MessageContact.id)
        .limit(1)
    )


def reply_draft(
    session: Session,
    settings: Settings,
    message_id: int,
    *,
    account_id: int,
    author_user_id: int | None = None,
    reply_all: bool = False,
) -> OutgoingMessage:
    """A draft answering message `message_id`: to its sender (or everyone)."""
    source = _source(session, message_id)
    parsed = parse_headers(_raw(settings, source), source.internal_date)
    by_role: dict[str, list[tuple[str | None, str]]] = {}
    for address in parsed.addresses:
        by_role.setdefault(address.role, []).append((address.name, address.address))

    to = by_role.get("reply_to") or by_role.get("from") or []
    cc: list[tuple[str | None, str]] = []
    if reply_all:
        own, seen = _own_addresses(session), {a.lower() for _, a in to}
        for name, address in by_role.get("to", []) + by_role.get("cc", []):
            if address.lower() not in own | seen:
                cc.append((name, address))
                seen.add(address.lower())

    draft = create_draft(
        session,
        settings,
        account_id=account_id,
        author_user_id=author_user_id,
        to=to,
        cc=cc,
        subject=_prefixed("Re:", source.subject, REPLY_PREFIXES),
        body_html="<p></p>",
        contact_id=_contact_of(session, source.id),
    )
    draft.compose_mode = REPLY_ALL if reply_all else REPLY
    draft.source_message_id = source.id
    draft.in_reply_to = source.message_id_header
    draft.references = _references(parsed, source.message_id_header)
    when = source.sent_at.strftime("%Y-%m-%d %H:%M") if source.sent_at else ""
    sender = source.from_name or source.from_address or ""
    draft.quoted_html = _quote(source, f"{when}, {sender}:")
    session.flush()
    log.info("reply draft outgoing=%s to message=%s", draft.id, source.id)
    return draft


def forward_draft(
    session: Session,
    settings: Settings,
    message_id: int,
    *,
    account_id: int,
    author_user_id: int | None = None,
) -> OutgoingMessage:
    """A draft forwarding message `message_id` with its attachments."""
    source = _source(session, message_id)
    raw = _raw(settings, source)
    draft = create_draft(
        session,
        settings,
        account_id=account_id,
        author_user_id=author_user_id,
        subject=_prefixed("Fwd:", source.subject, FORWARD_PREFIXES),
        body_html="<p></p>",
        contact_id=_contact_of(session, source.id),
    )
    draft.compose_mode = FORWARD
    draft.source_message_id = source.id
    intro = (
        f"---------- Forwarded message ----------\nFrom: {source.from_name or ''} "
        f"<{source.from_address or ''}>\nDate: {source.sent_at}\n"
        f"Subject: {source.subject or ''}"
    )
    draft.quoted_html = _quote(source, intro)
    for part in email.message_from_bytes(raw, policy=policy.default).iter_attachments():
        data = part.get_payload(decode=True) or b""
        add_attachment(
            session,
            settings,
            draft.id,
            part.get_filename() or "attachment",
            part.get_content_type(),
            data,
        )
    session.flush()
    log.info("forward draft outgoing=%s of message=%s", draft.id, source.id)
    return draft

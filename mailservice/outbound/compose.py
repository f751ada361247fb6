"""Drafts: created, saved as the user types, given attachments and a template.

These are the service functions the web compose page calls; each takes the
caller's session and leaves the commit to it.
"""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

from sqlalchemy.orm import Session

from mailservice.accounts.models import Account
from mailservice.config import Settings
from mailservice.errors import NotFoundError, OutboundError
from mailservice.outbound.headers import (
    clean_header_value,
    make_message_id,
    split_address,
    validate_address,
)
from mailservice.outbound.models import (
    DRAFT,
    NEW,
    OutgoingAttachment,
    OutgoingMessage,
    OutgoingRecipient,
)
from mailservice.outbound.spool import Spool
from mailservice.templating.store import render_template

log = logging.getLogger(__name__)

Recipient = str | tuple[str | None, str]


def message_id_domain(settings: Settings, account: Account) -> str:
    """The domain of our Message-IDs: the configured one, else the account's."""
    if settings.mail_domain:
        return settings.mail_domain
    if account.email and "@" in account.email:
        return account.email.rpartition("@")[2]
    return "localhost"


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFoundError(f"no account with id {account_id}")
    if not account.email:
        raise OutboundError(f"account {account.name!r} has no sender address (email)")
    if not account.smtp_host:
        raise OutboundError(f"account {account.name!r} has no SMTP server configured")
    return account


def create_draft(
    session: Session,
    settings: Settings,
    *,
    account_id: int,
    author_user_id: int | None = None,
    from_name: str | None = None,
    to: Sequence[Recipient] = (),
    cc: Sequence[Recipient] = (),
    bcc: Sequence[Recipient] = (),
    subject: str = "",
    body_html: str = "",
    contact_id: int | None = None,
    person_id: int | None = None,
    automatic: bool = False,
) -> OutgoingMessage:
    """A new draft on an account, with its Message-ID minted already."""
    account = _account(session, account_id)
    draft = OutgoingMessage(
        account_id=account.id,
        state=DRAFT,
        author_user_id=author_user_id,
        from_address=account.email,
        from_name=clean_header_value(from_name or "", field="sender name") or None,
        subject=clean_header_value(subject, field="subject"),
        body_html=body_html,
        contact_id=contact_id,
        person_id=person_id,
        automatic=automatic,
        compose_mode=NEW,
        message_id_header=make_message_id(message_id_domain(settings, account)),
    )
    _set_recipients(draft, to, cc, bcc)
    session.add(draft)
    session.flush()
    log.info("draft created outgoing=%s account=%s", draft.id, account.name)
    return draft


def get_draft(session: Session, outgoing_id: int) -> OutgoingMessage:
    """An outgoing message still in the draft state, or an error saying why not."""
    draft = session.get(OutgoingMessage, outgoing_id)
    if draft is None:
        raise NotFoundError(f"no outgoing message {outgoing_id}")
    if draft.state != DRAFT:
        raise OutboundError(
            f"message {outgoing_id} is {draft.state}, no longer a draft"
        )
    return draft


def update_draft(
    session: Session,
    outgoing_id: int,
    *,
    to: Sequence[Recipient] | None = None,
    cc: Sequence[Recipient] | None = None,
    bcc: Sequence[Recipient] | None = None,
    subject: str | None = None,
    body_html: str | None = None,
    include_signature: bool | None = None,
    contact_id: int | None = None,
    person_id: int | None = None,
) -> OutgoingMessage:
    """Save what the user typed; only the fields given change (autosave)."""
    draft = get_draft(session, outgoing_id)
    if subject is not None:
        draft.subject = clean_header_value(subject, field="subject")
    if body_html is not None:
        draft.body_html = body_html
    if include_signature is not None:
        draft.include_signature = include_signature
    if contact_id is not None:
        draft.contact_id = contact_id
    if person_id is not None:
        draft.person_id = person_id
    if to is not None or cc is not None or bcc is not None:
        _set_recipients(draft, *_merged(draft, to, cc, bcc))
    session.flush()
    return draft


def _merged(draft, to, cc, bcc):
    current = {
        role: [(r.name, r.address) for r in draft.recipients if r.role == role]
        for role in ("to", "cc", "bcc")
    }
    return (
        current["to"] if to is None else to,
        current["cc"] if cc is None else cc,
        current["bcc"] if bcc is None else bcc,
    )


def _set_recipients(draft: OutgoingMessage, to, cc, bcc) -> None:
    draft.recipients.clear()
    for role, given in (("to", to), ("cc", cc), ("bcc", bcc)):
        for name, address in _parsed(given, role):
            draft.recipients.append(
                OutgoingRecipient(
                    role=role,
                    name=name or None,
                    address=address,
                    address_norm=address.lower(),
                )
            )


def _parsed(given: Iterable[Recipient], role: str) -> list[tuple[str | None, str]]:
    field = {"to": "recipient", "cc": "copy recipient", "bcc": "blind copy recipient"}
    result = []
    for item in given:
        if isinstance(item, tuple):
            name, address = item
            result.append((name, validate_address(address, field=field[role])))
        else:
            result.append(split_address(item, field=field[role]))
    return result


def add_attachment(
    session: Session,
    settings: Settings,
    outgoing_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    content_id: str | None = None,
) -> OutgoingAttachment:
    """Attach a file (or an inline image, with `content_id`) to a draft."""
    draft = get_draft(session, outgoing_id)
    sha256 = Spool(settings.outbox_dir).put_file(data)
    attachment = OutgoingAttachment(
        filename=clean_header_value(filename, field="file name") or "attachment",
        content_type=clean_header_value(content_type, field="content type"),
        size=len(data),
        sha256=sha256,
        content_id=clean_header_value(content_id, field="content id")
        if content_id
        else None,
    )
    draft.attachments.append(attachment)
    session.flush()
    log.info("attachment added outgoing=%s size=%d", outgoing_id, len(data))
    return attachment


def remove_attachment(session: Session, outgoing_id: int, attachment_id: int) -> None:
    """Take an attachment off a draft (its spooled bytes stay for other drafts)."""
    draft = get_draft(session, outgoing_id)
    for attachment in list(draft.attachments):
        if attachment.id == attachment_id:
            draft.attachments.remove(attachment)
            session.flush()
            return
    raise NotFoundError(f"draft {outgoing_id} has no attachment {attachment_id}")


def apply_template(
    session: Session, outgoing_id: int, template_id: int, context: dict
) -> OutgoingMessage:
    """Fill a draft's subject and body from the current version of a template."""
    draft = get_draft(session, outgoing_id)
    rendered = render_template(session, template_id, context)
    draft.subject = rendered.subject
    draft.body_html = rendered.html
    draft.template_version_id = rendered.version_id
    session.flush()
    return draft


def delete_draft(session: Session, outgoing_id: int) -> None:
    """Discard a draft."""
    session.delete(get_draft(session, outgoing_id))
    session.flush()

"""The worker's part of a mailing: render a chunk of recipients and queue their
messages through the outbound queue.

Exactly one outgoing message per recipient: a chunk first claims its waiting
recipients (pending -> rendering, with a token of its own, committed), renders
them outside any transaction, then in one transaction moves each recipient it
still owns to `queued` and creates its message there. A recipient whose claim
was taken back meanwhile (the sweeper frees claims of dead workers) is left
alone, so no second message can be made for it. The same transaction locks the
mailing row and gives up when the mailing was paused or cancelled.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.db.base import utcnow
from mailservice.db.session import session_factory
from mailservice.errors import MailserviceError
from mailservice.mailings.files import FileIndex
from mailservice.mailings.message import RenderedMessage, render_for, sender_of
from mailservice.mailings.models import (
    FAILED,
    PENDING,
    QUEUED,
    RENDERING,
    RUNNING,
    Mailing,
    MailingRecipient,
)
from mailservice.mailings.recipients import lock_mailing
from mailservice.outbound.compose import add_attachment, create_draft
from mailservice.outbound.delivery import worker_name
from mailservice.outbound.queueing import queue_draft

log = logging.getLogger(__name__)

# The file index of a running mailing cannot change (its files are fixed when
# it starts), so a worker keeps the last few instead of reading them per chunk.
_INDEXES: OrderedDict[int, FileIndex] = OrderedDict()
INDEXES_KEPT = 4


@dataclass
class ChunkResult:
    """What one chunk did."""

    claimed: int = 0
    queued: list[int] = field(default_factory=list)  # outgoing ids
    failed: dict[int, str] = field(default_factory=dict)  # recipient id -> reason
    released: int = 0  # handed back: the mailing stopped meanwhile


def render_chunk(
    settings: Settings, mailing_id: int, recipient_ids: list[int]
) -> ChunkResult:
    """Render and queue the still-waiting recipients among `recipient_ids`."""
    factory = session_factory(settings.effective_database_url)
    token = f"{worker_name()}:{uuid.uuid4().hex[:8]}"
    result = ChunkResult()
    with factory() as session:
        claimed = _claim(session, mailing_id, recipient_ids, token)
        result.claimed = len(claimed)
        if not claimed:
            return result
        outputs = _render_all(session, settings, mailing_id, claimed)
        session.rollback()  # end the read transaction before the write one
        _queue_all(session, settings, mailing_id, outputs, token, result)
    log.info(
        "mailing=%s chunk claimed=%d queued=%d failed=%d released=%d",
        mailing_id,
        result.claimed,
        len(result.queued),
        len(result.failed),
        result.released,
    )
    return result


def _claim(session: Session, mailing_id: int, ids: list[int], token: str) -> list[int]:
    running = session.scalar(select(Mailing.state).where(Mailing.id == mailing_id))
    if running != RUNNING:
        return []
    waiting = (
        select(MailingRecipient.id)
        .where(
            MailingRecipient.id.in_(ids),
            MailingRecipient.mailing_id == mailing_id,
            MailingRecipient.state == PENDING,
        )
        .order_by(MailingRecipient.id)
        # A row another transaction holds is being handed to another job (a
        # dispatch marks it): skipping it loses nothing, waiting could deadlock.
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    session.execute(
        update(MailingRecipient)
        .where(MailingRecipient.id.in_(waiting), MailingRecipient.state == PENDING)
        .values(state=RENDERING, claimed_by=token, claimed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.scalars(
            select(MailingRecipient.id)
            .where(MailingRecipient.id.in_(ids), MailingRecipient.claimed_by == token)
            .order_by(MailingRecipient.position)
        )
    )


def _file_index(session: Session, mailing: Mailing) -> FileIndex:
    index = _INDEXES.get(mailing.id)
    if index is None:
        index = _INDEXES[mailing.id] = FileIndex(session, mailing)
        while len(_INDEXES) > INDEXES_KEPT:
            _INDEXES.popitem(last=False)
    return index


def _render_all(session, settings, mailing_id, claimed) -> list[tuple]:
    mailing = session.get(Mailing, mailing_id)
    sender = sender_of(session, settings, mailing)
    index = _file_index(session, mailing)
    outputs = []
    for recipient_id in claimed:
        recipient = session.get(MailingRecipient, recipient_id)
        try:
            rendered = render_for(
                session, settings, mailing, recipient, sender, index=index
            )
        except MailserviceError as exc:
            log.warning(
                "mailing=%s recipient=%s not rendered: %s",
                mailing_id,
                recipient_id,
                exc,
            )
            outputs.append((recipient_id, None, str(exc)))
        else:
            outputs.append((recipient_id, rendered, None))
    return outputs


def _queue_all(session, settings, mailing_id, outputs, token, result) -> None:
    if not lock_mailing(session, mailing_id, RUNNING):
        result.released = _release(session, [r for r, _o, _e in outputs], token)
        session.commit()
        return
    mailing = session.get(Mailing, mailing_id)
    for recipient_id, rendered, error in outputs:
        if not _take(session, recipient_id, token, FAILED if error else QUEUED, error):
            continue  # freed and taken by another worker meanwhile
        if error:
            result.failed[recipient_id] = error
            continue
        try:
            with session.begin_nested():
                outgoing_id = _queue_one(
                    session, settings, mailing, recipient_id, rendered
                )
        except MailserviceError as exc:  # a bad address the outbox refuses
            _mark_failed(session, recipient_id, str(exc))
            result.failed[recipient_id] = str(exc)
        else:
            result.queued.append(outgoing_id)
    session.commit()


def _take(
    session, recipient_id: int, token: str, state: str, error: str | None
) -> bool:
    taken = session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.id == recipient_id,
            MailingRecipient.state == RENDERING,
            MailingRecipient.claimed_by == token,
        )
        .values(state=state, error=error, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def _mark_failed(session, recipient_id: int, error: str) -> None:
    session.execute(
        update(MailingRecipient)
        .where(MailingRecipient.id == recipient_id)
        .values(state=FAILED, error=error, outgoing_id=None)
        .execution_options(synchronize_session=False)
    )


def _queue_one(
    session, settings, mailing: Mailing, recipient_id: int, rendered: RenderedMessage
) -> int:
    recipient = session.get(MailingRecipient, recipient_id)
    draft = create_draft(
        session,
        settings,
        account_id=mailing.account_id,
        author_user_id=mailing.author_user_id,
        to=[(recipient.name, recipient.address)],
        subject=rendered.subject,
        body_html=rendered.html,
        contact_id=recipient.contact_id,
        person_id=recipient.person_id,
        automatic=True,
    )
    draft.include_signature = mailing.include_signature
    for filename, content_type, data in rendered.attachments:
        add_attachment(session, settings, draft.id, filename, content_type, data)
    queue_draft(session, settings, draft.id, mailing.locale, rendered.headers)
    session.execute(
        update(MailingRecipient)
        .where(MailingRecipient.id == recipient_id)
        .values(outgoing_id=draft.id)
        .execution_options(synchronize_session=False)
    )
    return draft.id


def _release(session, recipient_ids: list[int], token: str) -> int:
    released = session.execute(
        update(MailingRecipient)
        .where(
            MailingRecipient.id.in_(recipient_ids),
            MailingRecipient.state == RENDERING,
            MailingRecipient.claimed_by == token,
        )
        .values(state=PENDING, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    return released.rowcount

"""A mailing's recipient rows: added from its filter, a CSV file or by hand.

Rows are inserted a batch at a time and an address already on the mailing is
skipped, so building the list twice (or again after a crash) gives the same
rows: one per recipient address. The filter's rows are rebuilt while the mailing
is a draft; rows from a file or typed by hand stay until removed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from mailservice.contacts.addresses import is_valid_address, normalize_address
from mailservice.errors import MailingError, NotFoundError
from mailservice.mailings.models import (
    BAD_ADDRESS,
    DRAFT,
    FROM_FILTER,
    FROM_HAND,
    NO_ADDRESS,
    Mailing,
    MailingRecipient,
)
from mailservice.mailings.selection import (
    Candidate,
    candidates_of,
    contacts_by_address,
    selection_candidates,
)
from mailservice.outbound.headers import split_address

log = logging.getLogger(__name__)


def get_mailing(session: Session, mailing_id: int) -> Mailing:
    """A mailing by id, or NotFoundError."""
    mailing = session.get(Mailing, mailing_id)
    if mailing is None:
        raise NotFoundError(f"no mailing {mailing_id}")
    return mailing


def require_draft(mailing: Mailing) -> None:
    """Refuse changes to a mailing that has started."""
    if mailing.state != DRAFT:
        raise MailingError(
            f"mailing {mailing.id} is {mailing.state}; only a draft can be changed "
            "(make a new mailing from it instead)"
        )


def lock_mailing(session: Session, mailing_id: int, *states: str) -> bool:
    """Take the mailing's row lock for this transaction if it is in `states`."""
    touched = session.execute(
        update(Mailing)
        .where(Mailing.id == mailing_id, Mailing.state.in_(states))
        .values(state=Mailing.state)
        .execution_options(synchronize_session=False)
    )
    return touched.rowcount == 1


def add_candidates(
    session: Session, mailing: Mailing, candidates: Iterable[Candidate], source: str
) -> int:
    """Insert candidates not yet on the mailing (by address); how many were added."""
    batch = list(candidates)
    norms = {_norm(c.address) for c in batch if c.address}
    taken = (
        set(
            session.scalars(
                select(MailingRecipient.address_norm).where(
                    MailingRecipient.mailing_id == mailing.id,
                    MailingRecipient.address_norm.in_(norms),
                )
            )
        )
        if norms
        else set()
    )
    position = (
        session.scalar(
            select(func.max(MailingRecipient.position)).where(
                MailingRecipient.mailing_id == mailing.id
            )
        )
        or 0
    )

    rows = []
    for candidate in batch:
        norm = _norm(candidate.address) if candidate.address else None
        if norm is not None and norm in taken:
            continue  # one message per recipient address
        if norm is not None:
            taken.add(norm)
        position += 1
        rows.append(_row(mailing.id, position, source, candidate, norm))
    session.add_all(rows)
    session.flush()
    return len(rows)


def _norm(address: str) -> str:
    return normalize_address(address)


def _row(mailing_id, position, source, candidate: Candidate, norm) -> MailingRecipient:
    problem = None
    if not candidate.address:
        problem = NO_ADDRESS
    elif not is_valid_address(candidate.address):
        problem = BAD_ADDRESS
    return MailingRecipient(
        mailing_id=mailing_id,
        position=position,
        source=source,
        contact_id=candidate.contact_id,
        person_id=candidate.person_id,
        name=candidate.name,
        address=candidate.address.strip() if candidate.address else None,
        address_norm=norm,
        fields=candidate.fields,
        files_key=candidate.files_key,
        problem=problem,
    )


def refresh_recipients(session: Session, mailing: Mailing) -> int:
    """Rebuild the filter's rows of a draft from the contacts as they are now."""
    require_draft(mailing)
    session.execute(
        delete(MailingRecipient).where(
            MailingRecipient.mailing_id == mailing.id,
            MailingRecipient.source == FROM_FILTER,
        )
    )
    added = 0
    for batch in selection_candidates(session, mailing):
        added += add_candidates(session, mailing, batch, FROM_FILTER)
    log.info("mailing=%s filter gave %d recipients", mailing.id, added)
    return added


def add_by_hand(
    session: Session,
    mailing: Mailing,
    addresses: Iterable[str] = (),
    contact_ids: Iterable[int] = (),
) -> int:
    """Add typed addresses ("Name <a@b>") and chosen contacts; how many were new."""
    require_draft(mailing)
    candidates = []
    for text in addresses:
        if text.strip():
            name, address = split_address(text, field="recipient")
            candidates.append(Candidate(None, None, name or None, address))
    known = contacts_by_address(session, [_norm(c.address) for c in candidates])
    for candidate in candidates:
        candidate.contact_id, candidate.person_id = known.get(
            _norm(candidate.address), (None, None)
        )
    ids = list(contact_ids)
    if ids:
        candidates += candidates_of(
            session, ids, mailing.address_rule, mailing.person_position
        )
    return add_candidates(session, mailing, candidates, FROM_HAND)


def remove_recipient(session: Session, mailing: Mailing, position: int) -> None:
    """Take one recipient off a draft."""
    require_draft(mailing)
    removed = session.execute(
        delete(MailingRecipient).where(
            MailingRecipient.mailing_id == mailing.id,
            MailingRecipient.position == position,
        )
    ).rowcount
    if not removed:
        raise NotFoundError(f"mailing {mailing.id} has no recipient {position}")


def recipient_at(session: Session, mailing_id: int, position: int) -> MailingRecipient:
    """The recipient listed at `position` (1, 2, ...) of a mailing."""
    recipient = session.scalar(
        select(MailingRecipient).where(
            MailingRecipient.mailing_id == mailing_id,
            MailingRecipient.position == position,
        )
    )
    if recipient is None:
        raise NotFoundError(f"mailing {mailing_id} has no recipient {position}")
    return recipient


def count_recipients(session: Session, mailing_id: int) -> int:
    """How many recipient rows a mailing has."""
    return (
        session.scalar(
            select(func.count()).where(MailingRecipient.mailing_id == mailing_id)
        )
        or 0
    )

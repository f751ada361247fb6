"""The to-assign list as one user sees it: unknown senders of mail they may read."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailservice.config import Settings
from mailservice.contacts.assigning import (
    UnassignedAddress,
    assign_address,
    create_contact_from_address,
    ignore_address,
    unassigned_addresses,
)
from mailservice.errors import MailserviceError
from mailservice.messages.models import Message, MessageAddress
from mailservice.users.access import Access

log = logging.getLogger(__name__)


@dataclass
class BulkOutcome:
    """What a bulk assignment did: addresses done, and the ones refused with why."""

    done: list[str]
    refused: list[tuple[str, str]]


def visible_unassigned(session: Session, access: Access) -> list[UnassignedAddress]:
    """Unknown senders, newest first, that appear on mail the user may read."""
    everyone = unassigned_addresses(session)
    if access.sees_all or not everyone:
        return everyone
    seen = set()
    norms = [entry.address for entry in everyone]
    for start in range(0, len(norms), 500):
        seen.update(
            session.scalars(
                select(MessageAddress.address_norm)
                .join(Message, Message.id == MessageAddress.message_id)
                .where(MessageAddress.address_norm.in_(norms[start : start + 500]))
                .where(access.messages())
                .distinct()
            )
        )
    return [entry for entry in everyone if entry.address in seen]


def assign_in_bulk(
    session: Session,
    settings: Settings,
    access: Access,
    addresses: list[str],
    *,
    contact_id: int | None = None,
    create: bool = False,
    ignore: bool = False,
) -> BulkOutcome:
    """Assign each address to a contact, make each a new contact, or ignore each."""
    allowed = {entry.address for entry in visible_unassigned(session, access)}
    outcome = BulkOutcome([], [])
    for address in addresses:
        if address not in allowed:
            outcome.refused.append((address, "not on your to-assign list"))
            continue
        try:
            with session.begin_nested():
                _assign_one(session, settings, address, contact_id, create, ignore)
            outcome.done.append(address)
        except MailserviceError as exc:
            outcome.refused.append((address, str(exc)))
    log.info(
        "to-assign bulk done=%d refused=%d", len(outcome.done), len(outcome.refused)
    )
    return outcome


def _assign_one(session, settings, address, contact_id, create, ignore) -> None:
    if ignore:
        ignore_address(session, address)
    elif create:
        create_contact_from_address(session, settings, address)
    elif contact_id:
        assign_address(session, settings, address, contact_id)
    else:
        raise MailserviceError("choose a contact, or create one")

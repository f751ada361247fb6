"""Contact groups: named sets of contacts a mailing can be sent to.

TODO: groups live here until the contacts part grows its own; the tables are
mailings' (contact_groups, contact_group_members) and hold nothing else.
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailservice.contacts.models import Contact
from mailservice.errors import MailingError, NotFoundError
from mailservice.mailings.models import ContactGroup, ContactGroupMember

log = logging.getLogger(__name__)


def get_or_create_group(session: Session, name: str) -> ContactGroup:
    """The group of that name, made when new."""
    name = " ".join(name.split())
    if not name:
        raise MailingError("a contact group needs a name")
    group = session.scalar(select(ContactGroup).where(ContactGroup.name == name))
    if group is None:
        group = ContactGroup(name=name)
        session.add(group)
        session.flush()
        log.info("contact group %s created", group.id)
    return group


def add_to_group(session: Session, name: str, contact_ids: list[int]) -> int:
    """Add contacts to a group; how many were not members yet."""
    group = get_or_create_group(session, name)
    known = set(session.scalars(select(Contact.id).where(Contact.id.in_(contact_ids))))
    missing = sorted(set(contact_ids) - known)
    if missing:
        raise NotFoundError(f"no contact with id {', '.join(map(str, missing))}")
    members = set(
        session.scalars(
            select(ContactGroupMember.contact_id).where(
                ContactGroupMember.group_id == group.id
            )
        )
    )
    new = [cid for cid in dict.fromkeys(contact_ids) if cid not in members]
    session.add_all(
        ContactGroupMember(group_id=group.id, contact_id=cid) for cid in new
    )
    session.flush()
    return len(new)


def remove_from_group(session: Session, name: str, contact_id: int) -> bool:
    """Take a contact out of a group."""
    member = session.scalar(
        select(ContactGroupMember)
        .join(ContactGroup)
        .where(ContactGroup.name == name, ContactGroupMember.contact_id == contact_id)
    )
    if member is None:
        return False
    session.delete(member)
    session.flush()
    return True


def list_groups(session: Session) -> list[tuple[str, int]]:
    """(name, member count) of every group, by name."""
    return [
        tuple(row)
        for row in session.execute(
            select(ContactGroup.name, func.count(ContactGroupMember.id))
            .outerjoin(
                ContactGroupMember, ContactGroupMember.group_id == ContactGroup.id
            )
            .group_by(ContactGroup.id, ContactGroup.name)
            .order_by(ContactGroup.name)
        )
    ]

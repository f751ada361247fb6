"""What the demo found, read back from the database after the sync."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from mailservice.accounts.models import Account, Folder
from mailservice.contacts.assigning import UnassignedAddress, unassigned_addresses
from mailservice.contacts.models import Contact, MessageContact
from mailservice.messages.models import Message, MessageLocation
from mailservice.stats import collect_stats


@dataclass(frozen=True)
class ServerInfo:
    """Where the demo servers listen and how to log in to them."""

    host: str
    imap_port: int
    smtp_port: int
    user: str
    password: str


@dataclass
class DemoReport:
    """The demo's findings: folders, contacts, the to-assign list and the stats."""

    servers: ServerInfo
    new_messages: int = 0
    folders: dict[str, int] = field(default_factory=dict)
    contacts: dict[str, int] = field(default_factory=dict)
    to_assign: list[UnassignedAddress] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


def collect_report(
    session: Session, account: Account, servers: ServerInfo, new_messages: int
) -> DemoReport:
    """Read the counts the demo prints for `account` (and the stats of all data)."""
    return DemoReport(
        servers=servers,
        new_messages=new_messages,
        folders=_folder_counts(session, account),
        contacts=_contact_thread_counts(session),
        to_assign=unassigned_addresses(session),
        stats=collect_stats(session),
    )


def format_report(report: DemoReport) -> list[str]:
    """The report as lines for a person to read; the stats last, as one JSON line."""
    stats = report.stats
    lines = [f"synced: {report.new_messages} new message(s) this run", "", "folders:"]
    lines += [f"  {name:<24} {count:>4}" for name, count in report.folders.items()]
    lines += [
        "",
        f"messages: {stats['messages']}, threads: {stats['threads']}, "
        f"linked to a contact: {stats['linked_messages']}, "
        f"not linked: {stats['unlinked_messages']}, "
        f"quarantined: {stats['quarantined']}",
        "",
        "contacts (threads):",
    ]
    lines += [f"  {name:<44} {count:>4}" for name, count in report.contacts.items()]
    lines += ["", "to assign (unknown senders):"]
    lines += [
        f"  {item.address:<44} {item.message_count:>4}  {item.name or ''}".rstrip()
        for item in report.to_assign
    ] or ["  (none)"]
    lines += ["", "stats: " + json.dumps(stats, sort_keys=True)]
    return lines


def format_servers(servers: ServerInfo) -> list[str]:
    """How to reach the demo servers from a mail client."""
    return [
        f"IMAP  {servers.host}:{servers.imap_port}  (no TLS, loopback only)",
        f"SMTP  {servers.host}:{servers.smtp_port}  (no TLS, AUTH optional)",
        f"user  {servers.user}",
        f"password  {servers.password}",
    ]


def _folder_counts(session: Session, account: Account) -> dict[str, int]:
    live = MessageLocation.deleted_at.is_(None)
    rows = session.execute(
        select(Folder.name, func.count(MessageLocation.id))
        .outerjoin(MessageLocation, (MessageLocation.folder_id == Folder.id) & live)
        .where(Folder.account_id == account.id, Folder.deleted_at.is_(None))
        .where(Folder.selectable.is_(True))
        .group_by(Folder.id, Folder.name)
    )
    return dict(sorted(rows.all(), key=lambda row: (row[0] != "INBOX", row[0])))


def _contact_thread_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(Contact.name, func.count(distinct(Message.thread_id)))
        .outerjoin(MessageContact, MessageContact.contact_id == Contact.id)
        .outerjoin(Message, Message.id == MessageContact.message_id)
        .group_by(Contact.id, Contact.name)
        .order_by(Contact.name)
    )
    return dict(rows.all())

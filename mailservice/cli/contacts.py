"""`mailservice contacts ...`: import contacts, see their mail, assign senders."""

from __future__ import annotations

from pathlib import Path

import click

from mailservice.cli.context import db_session, settings, user_errors
from mailservice.contacts.assigning import (
    assign_address,
    create_contact_from_address,
    ignore_address,
    unassigned_addresses,
)
from mailservice.contacts.editing import add_domain, remove_address, remove_domain
from mailservice.contacts.history import (
    ThreadSummary,
    contact_history,
    find_contact,
    list_contacts,
)
from mailservice.contacts.importing import import_contacts
from mailservice.contacts.models import Contact
from mailservice.contacts.validation import format_nip


@click.group("contacts")
def contacts_group() -> None:
    """Contacts (customers and suppliers) and the mail linked to them."""


@contacts_group.command("import")
@click.argument("file", type=click.Path(path_type=Path))
def import_command(file: Path) -> None:
    """Import contacts from a CSV FILE; bad rows are listed and skipped."""
    with user_errors(), db_session() as session:
        report = import_contacts(session, settings(), file)
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    click.echo(
        f"{report.imported} imported, {report.updated} updated, "
        f"{len(report.errors)} bad rows"
    )
    for line, reason in report.errors:
        click.echo(f"line {line}: {reason}")


@contacts_group.command("list")
def list_command() -> None:
    """List the contacts with their NIP, city, addresses and linked messages."""
    with user_errors(), db_session() as session:
        listings = list_contacts(session)
        for item in listings:
            contact = item.contact
            click.echo(
                f"{contact.id:>5}  {contact.name}  {format_nip(contact.nip) or '-'}  "
                f"{contact.city or '-'}  {item.address_count} addresses  "
                f"{item.message_count} messages"
            )
    if not listings:
        click.echo("no contacts yet; add them with `mailservice contacts import FILE`")


@contacts_group.command("show")
@click.argument("name")
def show_command(name: str) -> None:
    """Show the contact NAME (or id, or NIP) and its mail, thread by thread."""
    with user_errors(), db_session() as session:
        contact = find_contact(session, name)
        _echo_contact(contact)
        history = contact_history(session, contact.id)
    click.echo(f"\nhistory: {len(history)} threads")
    for summary in history:
        _echo_thread(summary)


@contacts_group.command("unassigned")
@click.option("--limit", type=int, default=100, show_default=True)
def unassigned_command(limit: int) -> None:
    """List unknown senders waiting to be assigned to a contact."""
    with user_errors(), db_session() as session:
        waiting = unassigned_addresses(session, limit=limit)
    for item in waiting:
        last = item.last_at.strftime("%Y-%m-%d") if item.last_at else "-"
        click.echo(
            f"{item.address}  {item.name or '-'}  "
            f"{item.message_count} messages  last {last}"
        )
    if not waiting:
        click.echo("no unknown senders")


@contacts_group.command("assign")
@click.argument("address")
@click.argument("contact")
@click.option("--person", help="Name of the person at the contact who uses ADDRESS.")
def assign_command(address: str, contact: str, person: str | None) -> None:
    """Give ADDRESS to CONTACT (name, id or NIP) and link all its mail."""
    with user_errors(), db_session() as session:
        found = find_contact(session, contact)
        assign_address(session, settings(), address, found.id, person_name=person)
        click.echo(f"{address} assigned to {found.name} (id {found.id})")


@contacts_group.command("create-from")
@click.argument("address")
@click.option("--name", help="The contact's name (default: from the mail seen).")
def create_from_command(address: str, name: str | None) -> None:
    """Make a contact of the unknown sender ADDRESS and link all its mail."""
    with user_errors(), db_session() as session:
        contact = create_contact_from_address(session, settings(), address, name)
        click.echo(
            f"contact {contact.name!r} ({contact.kind}, id {contact.id}) created"
        )


@contacts_group.command("ignore")
@click.argument("address")
def ignore_command(address: str) -> None:
    """Leave ADDRESS out of the unassigned list (newsletters, notifications)."""
    with user_errors(), db_session() as session:
        added = ignore_address(session, address)
    click.echo(f"{address} {'ignored' if added else 'was already ignored'}")


@contacts_group.command("remove-address")
@click.argument("address")
@click.argument("contact")
def remove_address_command(address: str, contact: str) -> None:
    """Take ADDRESS away from CONTACT and unlink the mail it brought."""
    with user_errors(), db_session() as session:
        found = find_contact(session, contact)
        remove_address(session, settings(), found.id, address)
        click.echo(f"{address} removed from {found.name}")


@contacts_group.command("add-domain")
@click.argument("domain")
@click.argument("contact")
def add_domain_command(domain: str, contact: str) -> None:
    """Link mail from anyone at DOMAIN to CONTACT."""
    with user_errors(), db_session() as session:
        found = find_contact(session, contact)
        add_domain(session, settings(), found.id, domain)
        click.echo(f"{domain} added to {found.name}")


@contacts_group.command("remove-domain")
@click.argument("domain")
@click.argument("contact")
def remove_domain_command(domain: str, contact: str) -> None:
    """Stop linking mail from DOMAIN to CONTACT."""
    with user_errors(), db_session() as session:
        found = find_contact(session, contact)
        remove_domain(session, settings(), found.id, domain)
        click.echo(f"{domain} removed from {found.name}")


def _echo_contact(contact: Contact) -> None:
    click.echo(f"{contact.name}  ({contact.kind}, id {contact.id})")
    if contact.nip:
        click.echo(f"NIP {format_nip(contact.nip)}")
    place = " ".join(filter(None, [contact.postal_code, contact.city]))
    address = ", ".join(filter(None, [contact.street, place, contact.country]))
    click.echo(f"address: {address}")
    click.echo(f"owner: {contact.owner or '-'}")
    for person in contact.people:
        details = ", ".join(filter(None, [person.position, person.phone]))
        click.echo(f"person: {person.name}" + (f" ({details})" if details else ""))
    for owned in contact.addresses:
        who = f" ({owned.person.name})" if owned.person else ""
        click.echo(f"e-mail: {owned.address}{who}")
    for domain in contact.domains:
        click.echo(f"domain: {domain.domain}")


def _echo_thread(summary: ThreadSummary) -> None:
    first = summary.first_at.strftime("%Y-%m-%d") if summary.first_at else "?"
    last = summary.last_at.strftime("%Y-%m-%d") if summary.last_at else "?"
    dates = first if first == last else f"{first}..{last}"
    subject = summary.subject or "(no subject)"
    click.echo(f"{dates:<22}  {summary.message_count:>3} msgs  {subject}")
    if summary.participants:
        click.echo(" " * 24 + ", ".join(str(p) for p in summary.participants))


def register(cli: click.Group) -> None:
    """Add the contacts commands to the top-level group."""
    cli.add_command(contacts_group)

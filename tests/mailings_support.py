"""Shared pieces of the mailing tests: contacts in a group, a mailing on the sink
account, running it with embedded workers, and reading what the sink got."""

from __future__ import annotations

import email
import io
import time
from email import policy

from sqlalchemy import select

from mailservice.config import Settings
from mailservice.contacts.models import Contact, ContactAddress, Person
from mailservice.db.session import session_factory
from mailservice.mailings.groups import add_to_group
from mailservice.mailings.running import finish_if_done, start_mailing
from mailservice.mailings.spec import MailingSpec, create_mailing
from mailservice.outbound.sweeper import sweep
from tests.outbound_support import embedded_workers

DOCUMENT = (
    "<html><body><h1>Zestawienie</h1><p>Kontrahent: {{ contact.name }}</p>"
    "<p>NIP {{ contact.nip }}</p><p>Do zapłaty: {{ document.amount_due }} "
    "{{ document.currency }}</p></body></html>"
)


def make_contacts(
    session,
    count: int,
    group: str | None = "abonenci",
    start: int = 0,
    people: bool = False,
) -> list[int]:
    """Contacts "Firma N" with NIP-like numbers and one address each (biuroN@...);
    with `people`, also a bookkeeper (ksiegowaN@...) and a salesman."""
    ids = []
    for number in range(start, start + count):
        contact = Contact(name=f"Firma {number}", nip=f"{1000000000 + number}")
        contact.addresses.append(_address(f"biuro{number}@klient{number}.test"))
        session.add(contact)
        session.flush()
        if people:
            _person(
                session,
                contact,
                f"Anna Ksiegowa{number}",
                "Główna księgowa",
                f"ksiegowa{number}@klient{number}.test",
            )
            _person(
                session,
                contact,
                f"Jan Handlowy{number}",
                "handlowiec",
                f"jan{number}@klient{number}.test",
            )
        ids.append(contact.id)
    if group:
        add_to_group(session, group, ids)
    session.commit()
    return ids


def _address(address: str) -> ContactAddress:
    return ContactAddress(address=address, address_norm=address.lower())


def _person(session, contact, name, position, address) -> None:
    person = Person(contact_id=contact.id, name=name, position=position)
    session.add(person)
    session.flush()
    entry = _address(address)
    entry.person_id = person.id
    contact.addresses.append(entry)
    session.flush()


def make_mailing(session, settings: Settings, **changes) -> int:
    """A draft mailing to the group "abonenci" from account "office"; its id."""
    values = {
        "name": "Faktury listopad",
        "account": "office",
        "subject": "Zestawienie dla {{ contact.name }}",
        "body": "<p>Dzień dobry, {{ person.name }}.</p>",
        "selection": {"group": "abonenci"},
    }
    values.update(changes)
    mailing = create_mailing(session, settings, MailingSpec(**values))
    from mailservice.mailings.recipients import refresh_recipients

    refresh_recipients(session, mailing)
    session.commit()
    return mailing.id


def run_to_end(settings: Settings, mailing_id: int, timeout: float = 60.0) -> bool:
    """Start a mailing and work it with embedded workers until it is finished."""
    factory = session_factory(settings.effective_database_url)
    with embedded_workers(settings):
        with factory() as session:
            start_mailing(session, settings, mailing_id)
        return wait_finished(settings, mailing_id, timeout)


def wait_finished(
    settings: Settings,
    mailing_id: int,
    timeout: float,
    sweep_every: float | None = None,
) -> bool:
    """Wait until the mailing is finished, running the sweeper if asked."""
    factory = session_factory(settings.effective_database_url)
    deadline = time.monotonic() + timeout
    next_sweep = time.monotonic()
    while time.monotonic() < deadline:
        if sweep_every is not None and time.monotonic() >= next_sweep:
            sweep(settings, waited_seconds=1.0)
            next_sweep = time.monotonic() + sweep_every
        with factory() as session:
            if finish_if_done(session, mailing_id):
                return True
        time.sleep(0.1)
    return False


def parsed(received) -> email.message.EmailMessage:
    """A message the sink received, parsed."""
    return email.message_from_bytes(received.data, policy=policy.default)


def pdf_text(data: bytes) -> str:
    """The text of a PDF's pages."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def by_recipient(sink) -> dict[str, list]:
    """What the sink got, by envelope recipient."""
    found: dict[str, list] = {}
    for message in sink.received:
        for address in message.rcpt_tos:
            found.setdefault(address.lower(), []).append(message)
    return found


def contact_address(session, contact_id: int) -> str:
    """The first address of a contact."""
    return session.scalar(
        select(ContactAddress.address)
        .where(ContactAddress.contact_id == contact_id)
        .order_by(ContactAddress.id)
    )

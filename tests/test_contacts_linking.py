"""Linking messages to contacts: by address, else by domain, recomputed on change."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import count

from sqlalchemy import select

from mailservice.accounts.models import Account
from mailservice.contacts.addresses import domain_of, normalize_address
from mailservice.contacts.editing import add_domain, remove_address, remove_domain
from mailservice.contacts.linking import link_messages, relink_contact
from mailservice.contacts.models import (
    Contact,
    ContactAddress,
    ContactDomain,
    MessageContact,
)
from mailservice.messages.models import Message, MessageAddress

_keys = count()
START = datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc)


def add_message(session, *addresses: tuple[str, ...], days: int = 0) -> Message:
    """A message with (role, address[, name]) tuples, as sync would store it."""
    key = f"m{next(_keys)}"
    message = Message(
        identity_key=key, raw_sha256=key, size=100, sent_at=START + timedelta(days)
    )
    for role, address, *name in addresses:
        message.addresses.append(
            MessageAddress(
                role=role,
                name=name[0] if name else None,
                address=address,
                address_norm=normalize_address(address),
                domain=domain_of(address),
            )
        )
    session.add(message)
    session.flush()
    return message


def add_contact(session, name, addresses=(), domains=()) -> Contact:
    """A contact owning the given addresses and domains."""
    contact = Contact(name=name)
    for address in addresses:
        contact.addresses.append(
            ContactAddress(address=address, address_norm=normalize_address(address))
        )
    for domain in domains:
        contact.domains.append(ContactDomain(domain=domain))
    session.add(contact)
    session.flush()
    return contact


def links(session, message: Message) -> dict[str, str]:
    """The contacts a message is linked to: {contact name: via}."""
    rows = session.execute(
        select(Contact.name, MessageContact.via)
        .join(MessageContact, MessageContact.contact_id == Contact.id)
        .where(MessageContact.message_id == message.id)
    )
    return dict(rows.all())


def test_address_links_ignore_case_and_plus_tags(session, settings):
    add_contact(session, "Budmat", ["Jan.Kowalski@Budmat.pl"])
    shouted = add_message(session, ("from", "JAN.KOWALSKI@BUDMAT.PL"))
    tagged = add_message(session, ("to", "jan.kowalski+faktury@budmat.pl"))
    stranger = add_message(session, ("from", "ktos@inna-firma.pl"))

    link_messages(session, settings, [shouted.id, tagged.id, stranger.id])

    assert links(session, shouted) == {"Budmat": "address"}
    assert links(session, tagged) == {"Budmat": "address"}
    assert links(session, stranger) == {}


def test_message_links_to_every_contact_named_in_from_to_cc_and_reply_to(
    session, settings
):
    for name in ("A", "B", "C", "D", "E"):
        add_contact(session, name, [f"{name.lower()}@{name.lower()}-firma.pl"])
    message = add_message(
        session,
        ("from", "a@a-firma.pl"),
        ("to", "b@b-firma.pl"),
        ("cc", "c@c-firma.pl"),
        ("reply_to", "d@d-firma.pl"),
        ("bcc", "e@e-firma.pl"),
    )

    link_messages(session, settings, [message.id])

    assert links(session, message) == {n: "address" for n in "ABCD"}


def test_unknown_person_at_a_contacts_domain_links_by_domain(session, settings):
    add_contact(session, "Budmat", domains=["budmat.pl"])
    message = add_message(session, ("from", "nowa.osoba@BUDMAT.pl"))

    link_messages(session, settings, [message.id])

    assert links(session, message) == {"Budmat": "domain"}


def test_free_mail_domain_never_links_by_domain(session, settings):
    # A stale contact domain from before wp.pl was known as free mail.
    add_contact(session, "Ktoś na WP", domains=["wp.pl"])
    message = add_message(session, ("from", "ktokolwiek@wp.pl"))

    link_messages(session, settings, [message.id])

    assert links(session, message) == {}


def test_own_account_domain_never_links_by_domain(session, settings):
    session.add(
        Account(
            name="biuro", email="biuro@nasza-firma.pl", imap_host="localhost",
            imap_port=143, imap_security="none", username="biuro",
            secret_encrypted="x",
        )
    )
    add_contact(session, "My sami", domains=["nasza-firma.pl"])
    message = add_message(session, ("from", "szef@nasza-firma.pl"))

    link_messages(session, settings, [message.id])

    assert links(session, message) == {}


def test_address_link_wins_over_domain_link(session, settings):
    add_contact(session, "Budmat", ["jan@budmat.pl"])
    add_contact(session, "Drewnex", domains=["drewnex.pl"])
    message = add_message(
        session, ("from", "jan@budmat.pl"), ("cc", "ktos@drewnex.pl")
    )

    link_messages(session, settings, [message.id])

    assert links(session, message) == {"Budmat": "address"}


def test_linking_twice_changes_nothing(session, settings):
    add_contact(session, "Budmat", ["jan@budmat.pl"], ["budmat.pl"])
    message = add_message(session, ("from", "jan@budmat.pl"), ("to", "ewa@budmat.pl"))

    link_messages(session, settings, [message.id])
    link_messages(session, settings, [message.id, message.id])

    rows = session.scalars(select(MessageContact).filter_by(message_id=message.id))
    assert [(row.via) for row in rows] == ["address"]


def test_domain_link_becomes_address_link_when_the_address_is_added(
    session, settings
):
    budmat = add_contact(session, "Budmat", domains=["budmat.pl"])
    message = add_message(session, ("from", "jan@budmat.pl"))
    link_messages(session, settings, [message.id])
    assert links(session, message) == {"Budmat": "domain"}

    budmat.addresses.append(
        ContactAddress(address="jan@budmat.pl", address_norm="jan@budmat.pl")
    )
    relink_contact(session, settings, budmat.id)

    assert links(session, message) == {"Budmat": "address"}


def test_removing_an_address_unlinks_its_mail(session, settings):
    budmat = add_contact(session, "Budmat", ["jan@budmat.pl", "ewa@budmat.pl"])
    from_jan = add_message(session, ("from", "jan@budmat.pl"))
    from_ewa = add_message(session, ("from", "ewa@budmat.pl"))
    link_messages(session, settings, [from_jan.id, from_ewa.id])

    remove_address(session, settings, budmat.id, "JAN@budmat.pl")

    assert links(session, from_jan) == {}
    assert links(session, from_ewa) == {"Budmat": "address"}


def test_address_moved_to_another_contact_moves_its_mail(session, settings):
    old = add_contact(session, "Stara firma", ["jan@example.com"])
    new = add_contact(session, "Nowa firma")
    message = add_message(session, ("from", "jan@example.com"))
    link_messages(session, settings, [message.id])

    session.delete(session.scalar(select(ContactAddress).filter_by(contact_id=old.id)))
    new.addresses.append(
        ContactAddress(address="jan@example.com", address_norm="jan@example.com")
    )
    relink_contact(session, settings, new.id)

    assert links(session, message) == {"Nowa firma": "address"}


def test_domains_added_and_removed_relink_mail(session, settings):
    budmat = add_contact(session, "Budmat")
    message = add_message(session, ("from", "ktos@budmat.pl"))
    link_messages(session, settings, [message.id])
    assert links(session, message) == {}

    add_domain(session, settings, budmat.id, "Budmat.PL")
    assert links(session, message) == {"Budmat": "domain"}

    remove_domain(session, settings, budmat.id, "budmat.pl")
    assert links(session, message) == {}


def test_links_made_by_hand_survive_relinking(session, settings):
    budmat = add_contact(session, "Budmat")
    message = add_message(session, ("from", "ktos@gdzies.pl"))
    session.add(
        MessageContact(message_id=message.id, contact_id=budmat.id, via="manual")
    )
    session.flush()

    link_messages(session, settings, [message.id])
    relink_contact(session, settings, budmat.id)

    assert links(session, message) == {"Budmat": "manual"}


def test_a_large_batch_links_every_message(session, settings):
    add_contact(session, "Budmat", ["jan@budmat.pl"])
    add_contact(session, "Drewnex", domains=["drewnex.pl"])
    messages = [
        add_message(session, ("from", f"jan+{i}@budmat.pl"), ("cc", "x@drewnex.pl"))
        if i % 2
        else add_message(session, ("from", f"osoba{i}@drewnex.pl"))
        for i in range(1200)
    ]

    link_messages(session, settings, [m.id for m in messages])

    vias = session.execute(
        select(MessageContact.message_id, MessageContact.via)
    ).all()
    assert len(vias) == 1200
    assert sum(via == "address" for _, via in vias) == 600

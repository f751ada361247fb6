"""The to-assign list of unknown senders; assigning them links past and future mail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailservice.accounts.models import Account, Folder
from mailservice.contacts.assigning import (
    assign_address,
    create_contact_from_address,
    ignore_address,
    unassigned_addresses,
)
from mailservice.contacts.linking import link_messages
from mailservice.contacts.models import Contact, ContactDomain
from mailservice.db.session import session_factory
from mailservice.errors import ContactError
from mailservice.messages.models import MessageLocation
from tests.test_contacts_import import run_cli  # noqa: F401  (fixture)
from tests.test_contacts_linking import add_contact, add_message, links


def add_account(session, email="biuro@nasza-firma.pl") -> Account:
    account = Account(
        name=email, email=email, imap_host="localhost", imap_port=143,
        imap_security="none", username=email, secret_encrypted="x",
    )
    session.add(account)
    session.flush()
    return account


def put_in_folder(session, message, account, role) -> None:
    folder = Folder(account_id=account.id, wire_name=role, name=role, role=role)
    session.add(folder)
    session.flush()
    session.add(
        MessageLocation(
            message_id=message.id, folder_id=folder.id, uidvalidity=1,
            uid=message.id, raw_sha256="x",
        )
    )
    session.flush()


def listed(session) -> list[tuple]:
    return [
        (item.address, item.name, item.message_count, item.last_at.day)
        for item in unassigned_addresses(session)
    ]


def test_unknown_senders_gather_with_name_count_and_last_date(session, settings):
    add_account(session)
    add_contact(session, "Budmat", ["jan@budmat.pl"])
    messages = [
        add_message(session, ("from", "Nowy@Klient.pl", "Adam Nowy"), days=1),
        add_message(session, ("from", "nowy+zamowienia@klient.pl"), days=4),
        add_message(session, ("from", "ola@gmail.com", "Ola"), days=2),
        add_message(session, ("from", "jan@budmat.pl"), ("cc", "obcy@obcy.pl")),
        add_message(session, ("from", "biuro@nasza-firma.pl"), days=9),
    ]
    link_messages(session, settings, [m.id for m in messages])

    assert listed(session) == [
        ("nowy@klient.pl", "Adam Nowy", 2, 5),
        ("ola@gmail.com", "Ola", 1, 3),
    ]


def test_recipients_of_our_sent_mail_are_listed_too(session, settings):
    account = add_account(session)
    sent = add_message(
        session, ("from", "biuro@nasza-firma.pl"), ("to", "kupiec@hurt.pl", "Kupiec")
    )
    received = add_message(
        session, ("from", "biuro@nasza-firma.pl"), ("to", "ktos@inny.pl")
    )
    put_in_folder(session, sent, account, "sent")
    put_in_folder(session, received, account, "inbox")

    assert [item.address for item in unassigned_addresses(session)] == [
        "kupiec@hurt.pl"
    ]


def test_ignored_address_leaves_the_list(session, settings):
    add_message(session, ("from", "newsletter@sklep.pl"))
    add_message(session, ("from", "klient@firma.pl"))

    assert ignore_address(session, "Newsletter+123@sklep.pl") is True
    assert ignore_address(session, "newsletter@sklep.pl") is False

    assert [item.address for item in unassigned_addresses(session)] == [
        "klient@firma.pl"
    ]


def test_assigning_links_past_mail_and_mail_synced_later(session, settings):
    budmat = add_contact(session, "Budmat")
    past = [add_message(session, ("from", "ewa@poczta.pl")) for _ in range(3)]
    link_messages(session, settings, [m.id for m in past])
    assert [i.address for i in unassigned_addresses(session)] == ["ewa@poczta.pl"]

    assign_address(session, settings, "Ewa+Budmat@Poczta.pl", budmat.id, "Ewa Nowak")

    assert all(links(session, m) == {"Budmat": "address"} for m in past)
    assert unassigned_addresses(session) == []
    (owned,) = budmat.addresses
    assert (owned.address_norm, owned.person.name) == ("ewa@poczta.pl", "Ewa Nowak")

    later = add_message(session, ("reply_to", "ewa@poczta.pl"), days=30)
    link_messages(session, settings, [later.id])
    assert links(session, later) == {"Budmat": "address"}


def test_free_mail_sender_becomes_a_person_without_a_domain(session, settings):
    first = add_message(session, ("from", "k.wojcik@gmail.com", "Krzysztof Wójcik"))
    neighbour = add_message(session, ("from", "ktos.inny@gmail.com"))

    contact = create_contact_from_address(session, settings, "k.wojcik@gmail.com")

    assert (contact.kind, contact.name, contact.domains) == (
        "person",
        "Krzysztof Wójcik",
        [],
    )
    assert links(session, first) == {"Krzysztof Wójcik": "address"}
    assert links(session, neighbour) == {}


def test_company_sender_becomes_a_company_owning_its_domain(session, settings):
    first = add_message(session, ("from", "jan@drewnex.pl", "Jan Kowalski"))
    colleague = add_message(session, ("from", "ewa@drewnex.pl"))

    contact = create_contact_from_address(
        session, settings, "jan@drewnex.pl", name="Drewnex Sp. z o.o."
    )

    assert (contact.kind, contact.name) == ("company", "Drewnex Sp. z o.o.")
    assert [d.domain for d in contact.domains] == ["drewnex.pl"]
    assert [p.name for p in contact.people] == ["Jan Kowalski"]
    assert links(session, first) == {"Drewnex Sp. z o.o.": "address"}
    assert links(session, colleague) == {"Drewnex Sp. z o.o.": "domain"}


def test_making_a_contact_of_a_known_address_is_refused(session, settings):
    add_contact(session, "Budmat", ["jan@budmat.pl"])

    with pytest.raises(ContactError, match="already belongs to contact 'Budmat'"):
        create_contact_from_address(session, settings, "JAN@budmat.pl")


def test_a_bad_address_is_refused_with_the_address_named(session, settings):
    budmat = add_contact(session, "Budmat")

    with pytest.raises(ContactError, match="'jan@budmat' is not a valid"):
        assign_address(session, settings, "jan@budmat", budmat.id)


def test_cli_lists_assigns_and_creates_from_unknown_senders(run_cli, db_url):
    with session_factory(db_url)() as session:
        add_contact(session, "Budmat", domains=["budmat.pl"])
        add_message(session, ("from", "ewa@wp.pl", "Ewa"))
        add_message(session, ("from", "szef@drewnex.pl"))
        add_message(session, ("from", "promocje@sklep.pl"))
        session.commit()

    listing = run_cli("contacts", "unassigned")
    assert listing.exit_code == 0, listing.output
    assert "ewa@wp.pl  Ewa  1 messages  last 2024-03-01" in listing.output

    assert run_cli("contacts", "assign", "ewa@wp.pl", "budmat").exit_code == 0
    created = run_cli("contacts", "create-from", "szef@drewnex.pl", "--name", "Drewnex")
    assert "contact 'Drewnex' (company" in created.output
    assert run_cli("contacts", "ignore", "promocje@sklep.pl").exit_code == 0

    assert run_cli("contacts", "unassigned").output.strip() == "no unknown senders"
    with session_factory(db_url)() as session:
        domains = session.scalars(select(ContactDomain.domain).join(Contact)).all()
        assert sorted(domains) == ["budmat.pl", "drewnex.pl"]


def test_cli_assign_to_an_unknown_contact_fails(run_cli):
    result = run_cli("contacts", "assign", "ewa@wp.pl", "Nikt Taki")

    assert result.exit_code == 1
    assert "no contact matches 'Nikt Taki'" in result.output

"""A contact's history is its mail thread by thread; contacts are found as typed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from mailservice.contacts.history import Participant, contact_history, find_contact
from mailservice.contacts.linking import link_messages
from mailservice.contacts.models import Contact
from mailservice.db.session import session_factory
from mailservice.errors import ContactError, NotFoundError
from mailservice.messages.models import Message
from mailservice.threads.models import Thread
from tests.test_contacts_import import run_cli  # noqa: F401  (fixture)
from tests.test_contacts_linking import START, add_contact, add_message

JAN = "jan@budmat.pl"


def threaded(session, subject, *messages):
    thread = Thread(subject=subject, message_count=len(messages))
    session.add(thread)
    session.flush()
    for message in messages:
        message.thread_id = thread.id
        message.subject = subject
    session.flush()
    return thread


def budmat_mail(session, settings):
    """Budmat's mail: two threads, one unthreaded message, and unrelated mail."""
    budmat = add_contact(session, "Budmat", ["jan@budmat.pl"])
    order = threaded(
        session,
        "Zamówienie 12/2024",
        add_message(session, ("from", JAN, "Jan K."), ("to", "biuro@my.pl")),
        add_message(session, ("from", "biuro@my.pl", "Biuro"), ("to", JAN), days=1),
        add_message(session, ("from", "magazyn@my.pl"), ("to", "biuro@my.pl"), days=2),
    )
    invoice = threaded(
        session,
        "Faktura FV/7/2024",
        add_message(session, ("from", "jan@budmat.pl"), ("cc", "ksiegowa@budmat.pl"),
                    days=10),
    )
    unrelated = add_message(session, ("from", "x@inna.pl"), days=20)
    threaded(session, "Inna sprawa", unrelated)
    loose = add_message(session, ("from", "jan+x@budmat.pl"), days=5)
    link_messages(session, settings, session.scalars(select(Message.id)).all())
    return budmat, order, invoice, loose


def test_history_lists_each_thread_once_newest_first(session, settings):
    budmat, order, invoice, loose = budmat_mail(session, settings)

    history = contact_history(session, budmat.id)

    assert [(h.thread_id, h.message_count) for h in history] == [
        (invoice.id, 1),
        (None, 1),
        (order.id, 3),
    ]
    newest, unthreaded, oldest = history
    assert (oldest.first_at, oldest.last_at) == (START, START + timedelta(days=2))
    assert oldest.subject == "Zamówienie 12/2024"
    assert oldest.participants == [
        Participant("Jan K.", "jan@budmat.pl"),
        Participant("Biuro", "biuro@my.pl"),
        Participant(None, "magazyn@my.pl"),
    ]
    assert [str(p) for p in newest.participants] == [
        "jan@budmat.pl",
        "ksiegowa@budmat.pl",
    ]
    assert unthreaded.message_id == loose.id
    assert unthreaded.participants == [Participant(None, "jan@budmat.pl")]


def test_contact_without_mail_has_an_empty_history(session, settings):
    budmat_mail(session, settings)
    quiet = add_contact(session, "Cisza", ["nikt@cisza.pl"])

    assert contact_history(session, quiet.id) == []


def test_contact_is_found_by_id_nip_or_name(session):
    budmat = Contact(name="Budmat Hurtownia Łódź", nip="4477127826")
    other = Contact(name="Łódzkie Drewno")
    session.add_all([budmat, other])
    session.flush()

    assert find_contact(session, str(budmat.id)) is budmat
    assert find_contact(session, "PL 447-712-78-26") is budmat
    assert find_contact(session, "budmat hurtownia łódź") is budmat
    assert find_contact(session, "HURTOWNIA") is budmat
    with pytest.raises(ContactError, match="matches 2 contacts"):
        find_contact(session, "ŁÓD")
    with pytest.raises(NotFoundError, match="no contact matches 'Nikt'"):
        find_contact(session, "Nikt")


def test_cli_show_prints_the_contact_and_its_threads(run_cli, db_url, settings):
    with session_factory(db_url)() as session:
        budmat, *_ = budmat_mail(session, settings)
        budmat.nip = "4477127826"
        session.commit()

    result = run_cli("contacts", "show", "Budmat")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "NIP 447-712-78-26" in lines
    assert "e-mail: jan@budmat.pl" in lines
    assert "history: 3 threads" in lines
    order = next(line for line in lines if "Zamówienie 12/2024" in line)
    assert order.startswith("2024-03-01..2024-03-03") and "3 msgs" in order

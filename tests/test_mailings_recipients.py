"""Who a mailing goes to: filters, address rules, CSV lists, typed addresses, files,
and the problems listed before sending."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mailservice.errors import MailingError, RecipientListError
from mailservice.mailings.csvlist import import_recipients_csv
from mailservice.mailings.files import add_file, recipient_files
from mailservice.mailings.models import MARKETING, MailingRecipient
from mailservice.mailings.problems import recipient_problems
from mailservice.mailings.recipients import (
    add_by_hand,
    get_mailing,
    recipient_at,
    refresh_recipients,
)
from mailservice.mailings.unsubscribe import suppress
from mailservice.outbound.models import BouncingAddress
from tests.mailings_support import make_contacts, make_mailing
from tests.outbound_support import add_sink_account


@pytest.fixture
def account(session, settings):
    """The sending account (its SMTP server is never reached here)."""
    return add_sink_account(session, settings, 2525)


def _rows(session, mailing_id):
    return list(
        session.scalars(
            select(MailingRecipient)
            .where(MailingRecipient.mailing_id == mailing_id)
            .order_by(MailingRecipient.position)
        )
    )


def test_group_filter_gives_one_recipient_per_contact_address(
    session, settings, account
):
    make_contacts(session, 5)
    make_contacts(session, 2, group="inni", start=100)
    mailing_id = make_mailing(session, settings)

    rows = _rows(session, mailing_id)
    assert [r.address for r in rows] == [f"biuro{n}@klient{n}.test" for n in range(5)]
    assert [r.position for r in rows] == [1, 2, 3, 4, 5]
    assert all(r.contact_id is not None for r in rows)


def test_rebuilding_the_list_twice_gives_the_same_rows(session, settings, account):
    make_contacts(session, 4)
    mailing_id = make_mailing(session, settings)
    mailing = get_mailing(session, mailing_id)

    refresh_recipients(session, mailing)
    refresh_recipients(session, mailing)
    session.commit()

    assert len(_rows(session, mailing_id)) == 4


def test_people_rule_with_a_position_picks_the_bookkeeper(session, settings, account):
    make_contacts(session, 3, people=True)
    mailing_id = make_mailing(
        session, settings, addresses="people", person_position="księg"
    )

    rows = _rows(session, mailing_id)
    assert [r.address for r in rows] == [
        f"ksiegowa{n}@klient{n}.test" for n in range(3)
    ]
    assert rows[0].name == "Anna Ksiegowa0" and rows[0].person_id is not None


def test_all_rule_sends_one_message_per_address_of_a_contact(
    session, settings, account
):
    make_contacts(session, 2, people=True)
    mailing_id = make_mailing(session, settings, addresses="all")

    assert len(_rows(session, mailing_id)) == 6


def test_contact_without_a_usable_address_is_listed_not_dropped(
    session, settings, account
):
    make_contacts(session, 2)  # no people: the people rule finds no address
    mailing_id = make_mailing(session, settings, addresses="people")

    rows = _rows(session, mailing_id)
    assert [r.address for r in rows] == [None, None]
    problems = list(recipient_problems(session, get_mailing(session, mailing_id)))
    assert [(p.position, p.problem, p.blocking) for p in problems] == [
        (1, "no_address", True),
        (2, "no_address", True),
    ]


def test_csv_recipients_carry_their_own_document_fields(session, settings, account):
    contacts = make_contacts(session, 2, group=None)
    mailing_id = make_mailing(session, settings, selection={})
    mailing = get_mailing(session, mailing_id)
    data = (
        "email;nip;number;amount_due;currency;file\n"
        "biuro0@klient0.test;;FS/1/2026;123,00;PLN;a.pdf\n"
        ";1000000001;FS/2/2026;456,50;PLN;\n"
        "obcy@nowy.test;;FS/3/2026;7,00;EUR;\n"
    ).encode("cp1250")

    outcome = import_recipients_csv(session, mailing, data)
    session.commit()

    rows = _rows(session, mailing_id)
    assert outcome.added == 3
    assert [r.address for r in rows] == [
        "biuro0@klient0.test",
        "biuro1@klient1.test",
        "obcy@nowy.test",
    ]
    assert [r.contact_id for r in rows] == [contacts[0], contacts[1], None]
    assert json.loads(rows[1].fields) == {
        "number": "FS/2/2026",
        "amount_due": "456,50",
        "currency": "PLN",
    }
    assert rows[0].files_key == "a.pdf"


def test_csv_with_bad_rows_is_refused_whole_naming_each_line(
    session, settings, account
):
    make_contacts(session, 1, group=None)
    mailing_id = make_mailing(session, settings, selection={})
    mailing = get_mailing(session, mailing_id)
    data = (
        b"email,nip,total\n"
        b"dobry@klient.test,,1\n"
        b"nie-adres,,2\n"
        b",9999999999,3\n"
        b"dobry@klient.test,,4\n"
        b",,5\n"
    )

    with pytest.raises(RecipientListError) as refused:
        import_recipients_csv(session, mailing, data)

    assert [p.line for p in refused.value.problems] == [3, 4, 5, 6]
    assert "line 3: 'nie-adres' is not an e-mail address" in str(refused.value)
    assert "listed already on line 2" in str(refused.value)
    assert _rows(session, mailing_id) == []


def test_open_invoices_filter_is_refused_until_receivables_exist(
    session, settings, account
):
    with pytest.raises(MailingError, match="receivables"):
        make_mailing(session, settings, selection={"open_invoices": True})


def test_typed_addresses_are_linked_to_their_contact(session, settings, account):
    contacts = make_contacts(session, 1, group=None)
    mailing_id = make_mailing(session, settings, selection={})
    mailing = get_mailing(session, mailing_id)

    add_by_hand(session, mailing, ["Jan Nowy <jan@nowy.test>", "BIURO0@klient0.test"])
    session.commit()

    rows = _rows(session, mailing_id)
    assert [(r.name, r.address, r.contact_id) for r in rows] == [
        ("Jan Nowy", "jan@nowy.test", None),
        (None, "BIURO0@klient0.test", contacts[0]),
    ]


def test_bouncing_and_unsubscribed_are_listed_before_a_marketing_send(
    session, settings, account
):
    settings = settings.model_copy(update={"public_base_url": "https://poczta.test"})
    make_contacts(session, 4)
    session.add(BouncingAddress(address_norm="biuro1@klient1.test", kind="hard"))
    session.add(BouncingAddress(address_norm="biuro2@klient2.test", kind="soft"))
    suppress(session, "Biuro3@Klient3.test", "unsubscribed")
    session.commit()

    offer = make_mailing(session, settings, kind=MARKETING, name="Oferta")
    invoices = make_mailing(session, settings, name="Faktury")

    found = {
        (p.position, p.problem, p.blocking)
        for p in recipient_problems(session, get_mailing(session, offer))
    }
    assert found == {
        (2, "bouncing", True),
        (3, "soft_bounce", False),
        (4, "unsubscribed", True),
    }
    # Transactional mail (an invoice) still goes to an unsubscribed address.
    found = {
        (p.position, p.problem)
        for p in recipient_problems(session, get_mailing(session, invoices))
    }
    assert found == {(2, "bouncing"), (3, "soft_bounce")}


def test_files_match_by_nip_and_a_missing_file_is_listed(session, settings, account):
    make_contacts(session, 3)
    mailing_id = make_mailing(session, settings, files_match="nip", files_required=True)
    mailing = get_mailing(session, mailing_id)
    add_file(session, settings, mailing, "faktura_1000000000_11.pdf", b"%PDF zero")
    add_file(session, settings, mailing, "faktura_1000000002_11.pdf", b"%PDF two")
    session.commit()

    first = recipient_files(session, mailing, recipient_at(session, mailing_id, 1))
    assert [f.filename for f in first] == ["faktura_1000000000_11.pdf"]
    problems = list(recipient_problems(session, mailing))
    assert [(p.position, p.problem) for p in problems] == [(2, "no_file")]


def test_files_match_by_pattern_with_the_document_number(session, settings, account):
    make_contacts(session, 1, group=None)
    mailing_id = make_mailing(
        session,
        settings,
        selection={},
        files_match="pattern",
        files_pattern="FS_{number}*.pdf",
    )
    mailing = get_mailing(session, mailing_id)
    import_recipients_csv(
        session, mailing, b"email,number\nbiuro0@klient0.test,FS/7/2026\n"
    )
    add_file(session, settings, mailing, "FS_FS_7_2026.pdf", b"%PDF seven")
    add_file(session, settings, mailing, "FS_FS_8_2026.pdf", b"%PDF eight")
    session.commit()

    files = recipient_files(session, mailing, recipient_at(session, mailing_id, 1))
    assert [f.filename for f in files] == ["FS_FS_7_2026.pdf"]


def test_a_pattern_with_an_unknown_placeholder_is_refused(session, settings, account):
    with pytest.raises(MailingError, match="unknown placeholder"):
        make_mailing(
            session, settings, files_match="pattern", files_pattern="{invoice}.pdf"
        )

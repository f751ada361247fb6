"""The subject fallback: same subject, within the window, a reply, a shared party."""

import pytest

from mailservice.config import Settings
from tests.threads_builder import CUSTOMER, OWN, STRANGER, Mail, Mailbox, day


@pytest.fixture
def box(session, settings):
    return Mailbox(session, settings)


def _invoice(**fields) -> Mail:
    return Mail("invoice", subject="Faktura 12/2026", sender=OWN, to=[CUSTOMER],
                folder=("biuro", "Sent"), **fields)


def _answer(key="answer", **fields) -> Mail:
    fields.setdefault("sent_at", day(3))
    fields.setdefault("subject", "Odp: Faktura 12/2026")
    return Mail(key, **fields)


def test_customer_reply_without_references_joins_by_subject(box):
    box.arrive(_invoice())
    box.arrive(_answer())

    assert box.thread_of("answer") == box.thread_of("invoice")
    assert box.threads()[0].message_count == 2


def test_reply_arriving_first_joins_by_subject_too(box):
    box.arrive(_answer())
    box.arrive(_invoice())

    assert box.thread_of("answer") == box.thread_of("invoice")


@pytest.mark.parametrize(
    "prefix", ["Re:", "RE[2]:", "ODP:", "AW:", "Fwd:", "PD:", "WG:"]
)
def test_any_reply_or_forward_prefix_counts_as_a_reply(box, prefix):
    box.arrive(_invoice())
    box.arrive(_answer(subject=f"{prefix} [budmat-faktury] Faktura 12/2026"))

    assert box.thread_of("answer") == box.thread_of("invoice")


def test_stranger_with_the_same_subject_does_not_join(box):
    # Both messages have our own mailbox in To; that is no shared party.
    box.arrive(Mail("invoice", subject="Faktura 12/2026"))
    box.arrive(_answer(sender=STRANGER))

    assert box.thread_of("answer") != box.thread_of("invoice")
    assert len(box.threads()) == 2


def test_colleague_of_the_same_company_domain_is_no_shared_party(box):
    box.arrive(Mail("invoice", subject="Faktura 12/2026", cc=["anna@firma.pl"]))
    box.arrive(_answer(sender=STRANGER, to=["anna@firma.pl"]))

    assert box.thread_of("answer") != box.thread_of("invoice")


def test_shared_contact_joins_two_addresses_of_one_customer(box):
    budmat = box.contact("Budmat Sp. z o.o.")
    box.arrive(_invoice(contacts=[budmat]))
    box.arrive(_answer(sender="ksiegowosc@budmat.pl", contacts=[budmat]))

    assert box.thread_of("answer") == box.thread_of("invoice")


def test_different_contacts_do_not_join(box):
    budmat = box.contact("Budmat Sp. z o.o.")
    other = box.contact("Hurtownia Stal")
    box.arrive(_invoice(contacts=[budmat]))
    box.arrive(_answer(sender="biuro@stal.pl", contacts=[other]))

    assert box.thread_of("answer") != box.thread_of("invoice")


def test_reply_outside_the_window_does_not_join(box):
    box.arrive(_invoice())
    box.arrive(_answer(sent_at=day(31)))

    assert box.thread_of("answer") != box.thread_of("invoice")


def test_reply_on_the_last_day_of_the_window_joins(box):
    box.arrive(_invoice())
    box.arrive(_answer(sent_at=day(30)))

    assert box.thread_of("answer") == box.thread_of("invoice")


def test_window_follows_the_setting(session, settings):
    short = Settings(**(settings.model_dump() | {"thread_subject_window_days": 2}))
    box = Mailbox(session, short)
    box.arrive(_invoice())
    box.arrive(_answer(sent_at=day(3)))

    assert box.thread_of("answer") != box.thread_of("invoice")


def test_two_fresh_messages_with_one_subject_stay_apart(box):
    box.arrive(_invoice())
    box.arrive(Mail("next", subject="Faktura 12/2026", sender=OWN, to=[CUSTOMER],
                    sent_at=day(7)))

    assert box.thread_of("next") != box.thread_of("invoice")


def test_message_with_references_to_an_unknown_parent_counts_as_a_reply(box):
    box.arrive(_invoice())
    box.arrive(_answer(subject="Faktura 12/2026", in_reply_to="lost@budmat.pl"))

    assert box.thread_of("answer") == box.thread_of("invoice")


def test_placeholder_subject_never_joins(box):
    box.arrive(Mail("first", subject="(brak tematu)"))
    box.arrive(Mail("second", subject="Re: (brak tematu)", sent_at=day(1)))

    assert box.thread_of("first") != box.thread_of("second")


def test_message_without_date_is_not_joined_by_subject(box):
    box.arrive(_invoice())
    box.arrive(_answer(sent_at=None))

    assert box.thread_of("answer") != box.thread_of("invoice")


def test_subject_links_chain_across_replies_in_any_order(box):
    mails = [_invoice(), _answer(), _answer("again", sent_at=day(20),
                                            subject="Re: Odp: Faktura 12/2026")]
    box.arrive(mails[2])
    box.arrive(mails[0])
    box.arrive(mails[1])

    assert len(box.threads()) == 1
    thread = box.threads()[0]
    assert (thread.subject, thread.first_at, thread.last_at) == (
        "Faktura 12/2026", day(0), day(20)
    )

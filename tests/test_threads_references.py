"""Threading by Message-ID, In-Reply-To and References, in any arrival order."""

from itertools import permutations

import pytest
from sqlalchemy import select

from mailservice.inbox.models import ThreadState
from mailservice.messages.models import Message
from mailservice.threads.models import Thread
from tests.threads_builder import OWN, Mail, Mailbox, day

ANNA = "anna@hurtownia.pl"


@pytest.fixture
def box(session, settings):
    return Mailbox(session, settings)


def _chain() -> list[Mail]:
    """An order, the office's answer, the customer's reply: subjects all differ,
    so only the references can join them."""
    return [
        Mail("order", subject="Zamówienie cement", message_id="a@budmat.pl",
             sent_at=day(0)),
        Mail("answer", subject="Potwierdzenie zamówienia", message_id="b@firma.pl",
             in_reply_to="a@budmat.pl", references=["a@budmat.pl"], sent_at=day(1),
             sender=OWN, to=["jan.kowalski@budmat.pl"], folder=("biuro", "Sent")),
        Mail("reply", subject="Odp: Termin dostawy", message_id="c@budmat.pl",
             in_reply_to="b@firma.pl", references=["a@budmat.pl", "b@firma.pl"],
             sent_at=day(2)),
    ]


def test_reply_joins_parent_via_in_reply_to(box):
    box.arrive(Mail("parent", subject="Oferta", message_id="p@budmat.pl"))
    box.arrive(Mail("reply", subject="Pytanie o ofertę", message_id="r@firma.pl",
                    in_reply_to="p@budmat.pl", sent_at=day(40)))

    assert box.thread_of("reply") == box.thread_of("parent") is not None
    assert len(box.threads()) == 1


def test_reply_joins_ancestor_named_only_in_references(box):
    box.arrive(Mail("root", message_id="root@budmat.pl"))
    box.arrive(Mail("reply", subject="Inny temat", message_id="r@firma.pl",
                    references=["unknown@elsewhere", "root@budmat.pl"], sent_at=day(3)))

    assert box.thread_of("reply") == box.thread_of("root")


def test_reply_synced_before_parent_joins_thread(box):
    # Forty days apart: outside the subject window, only In-Reply-To joins them.
    box.arrive(Mail("reply", subject="Re: Cennik", message_id="r@firma.pl",
                    in_reply_to="p@budmat.pl", sent_at=day(40)))
    first_thread = box.thread_of("reply")
    box.arrive(Mail("parent", subject="Cennik", message_id="p@budmat.pl"))

    assert first_thread is not None
    assert box.thread_of("parent") == box.thread_of("reply") == first_thread
    thread = box.threads()[0]
    assert (thread.message_count, thread.subject) == (2, "Cennik")


@pytest.mark.parametrize("order", list(permutations(range(3))))
def test_three_message_chain_gives_one_thread_in_any_arrival_order(box, order):
    chain = _chain()
    for index in order:
        box.arrive(chain[index])

    threads = box.threads()
    assert len(threads) == 1
    assert {box.thread_of(mail.key) for mail in chain} == {threads[0].id}
    thread = threads[0]
    assert thread.message_count == 3
    assert thread.subject == "Zamówienie cement"
    assert thread.normalized_subject == "zamówienie cement"
    assert (thread.first_at, thread.last_at) == (day(0), day(2))


def test_chain_arriving_in_one_batch_gives_one_thread(box):
    box.arrive(*reversed(_chain()))

    assert len(box.threads()) == 1
    assert box.threads()[0].message_count == 3


def test_missing_middle_message_merges_threads_when_it_arrives(box):
    order, answer, reply = _chain()
    reply.references = ["b@firma.pl"]  # a client that keeps only the parent
    box.arrive(order)
    box.arrive(reply)
    kept = min(box.thread_of("order"), box.thread_of("reply"))
    assert box.thread_of("order") != box.thread_of("reply")

    box.arrive(answer)

    assert [t.id for t in box.threads()] == [kept]
    assert box.threads()[0].message_count == 3
    assert {box.thread_of(k) for k in ("order", "answer", "reply")} == {kept}


def test_reply_whose_parent_never_arrives_keeps_its_own_thread(box):
    box.arrive(Mail("orphan", subject="Re: Stara sprawa", message_id="o@budmat.pl",
                    in_reply_to="gone@firma.pl"))

    thread = box.threads()[0]
    assert box.thread_of("orphan") == thread.id
    assert (thread.message_count, thread.subject) == (1, "Re: Stara sprawa")


def test_reference_loop_gives_one_thread(box):
    box.arrive(Mail("a", subject="Pętla A", message_id="a@x",
                    references=["b@x", "a@x"]))
    box.arrive(Mail("b", subject="Pętla B", message_id="b@x", references=["a@x"],
                    sent_at=day(1)))

    assert box.thread_of("a") == box.thread_of("b")
    assert box.threads()[0].message_count == 2


def test_duplicate_message_ids_are_joined_only_by_a_reply_naming_them(box):
    box.arrive(Mail("first", subject="Raport dzienny", message_id="same@broken"))
    box.arrive(Mail("second", subject="Dostawa", message_id="same@broken",
                    sender="magazyn@dostawca.pl", sent_at=day(2)))
    assert box.thread_of("first") != box.thread_of("second")

    box.arrive(Mail("reply", subject="Re: Dostawa", message_id="r@firma.pl",
                    in_reply_to="same@broken", sent_at=day(3)))

    assert box.thread_of("first") == box.thread_of("second") == box.thread_of("reply")
    assert box.threads()[0].message_count == 3


def test_merge_keeps_lowest_thread_and_deletes_the_emptied_one(box):
    box.arrive(Mail("reply", subject="Re: Cennik", in_reply_to="p@budmat.pl",
                    message_id="r@firma.pl", sent_at=day(5)))
    box.arrive(Mail("other", subject="Re: Cennik", in_reply_to="p@budmat.pl",
                    message_id="s@firma.pl", sent_at=day(6), sender=ANNA))
    assert box.thread_of("reply") != box.thread_of("other")
    lowest = min(box.thread_of("reply"), box.thread_of("other"))

    box.arrive(Mail("parent", subject="Cennik", message_id="p@budmat.pl"))

    thread, = box.threads()
    assert thread.id == lowest
    assert thread.message_count == 3
    assert (thread.first_at, thread.last_at) == (day(0), day(6))
    assert thread.subject == "Cennik"


def test_merge_carries_the_work_state_of_the_absorbed_thread(box, session):
    box.arrive(Mail("parent", subject="Reklamacja", message_id="p@budmat.pl"))
    box.arrive(Mail("reply", subject="Re: Reklamacja", message_id="r@budmat.pl",
                    in_reply_to="gone@firma.pl", sent_at=day(1), sender=ANNA))
    absorbed = box.thread_of("reply")
    assert absorbed != box.thread_of("parent")
    session.add(ThreadState(thread_id=absorbed, handled_at=day(1)))
    session.commit()

    box.arrive(Mail("middle", subject="Re: Reklamacja", message_id="gone@firma.pl",
                    in_reply_to="p@budmat.pl", sent_at=day(0.5)))

    state = session.scalars(select(ThreadState)).one()
    assert state.thread_id == box.thread_of("parent") == box.thread_of("reply")
    assert state.handled_at == day(1)


def test_message_objects_in_the_session_see_their_thread(box, session, settings):
    message = Message(identity_key="k", raw_sha256="k", size=1, subject="Test",
                      normalized_subject="test", message_id_header="k@x")
    session.add(message)
    session.flush()

    from mailservice.threads.threader import thread_messages

    thread_messages(session, settings, [message.id])

    assert message.thread_id == session.scalar(select(Thread.id))

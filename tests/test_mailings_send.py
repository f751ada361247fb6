"""Running mailings with embedded workers against the SMTP sink: each recipient's
own PDF and fields, idempotent starts, pause, resume, cancel, preview, test send,
retries, the report, and mailings made from failures."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mailservice.contacts.history import contact_history
from mailservice.db.session import session_factory
from mailservice.mailings.models import FINISHED, MailingRecipient
from mailservice.mailings.preview import preview_message, send_test
from mailservice.mailings.progress import mailing_progress
from mailservice.mailings.recipients import get_mailing
from mailservice.mailings.report import (
    mailing_from_failures,
    report_rows,
    report_summary,
    write_report_csv,
)
from mailservice.mailings.running import (
    cancel_mailing,
    pause_mailing,
    resume_mailing,
    start_mailing,
)
from mailservice.outbound.models import OutgoingMessage
from tests.mailings_support import (
    DOCUMENT,
    by_recipient,
    make_contacts,
    make_mailing,
    parsed,
    pdf_text,
    run_to_end,
    wait_finished,
)
from tests.outbound_support import add_sink_account, embedded_workers, fast_settings
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)


@pytest.fixture
def fast(settings):
    """Settings with quick retries and small chunks."""
    return fast_settings(settings, mailing_chunk_size=4)


@pytest.fixture
def office(session, fast, smtp_sink):
    """The account "office" sending to the sink."""
    return add_sink_account(session, fast, smtp_sink.port)


def _csv_fields(session, mailing_id, rows: list[tuple[str, str]]) -> None:
    from mailservice.mailings.csvlist import import_recipients_csv

    lines = ["email;amount_due;currency;number"] + [
        f"{address};{amount};PLN;FS/{n}/2026"
        for n, (address, amount) in enumerate(rows)
    ]
    import_recipients_csv(
        session, get_mailing(session, mailing_id), "\n".join(lines).encode()
    )
    session.commit()


def test_each_recipient_gets_their_own_fields_and_pdf(session, fast, office, smtp_sink):
    make_contacts(session, 6, group=None)
    mailing_id = make_mailing(
        session,
        fast,
        selection={},
        document=DOCUMENT,
        document_filename="zestawienie-{{ document.number }}.pdf",
        body="<p>Do zapłaty {{ document.amount_due }} {{ document.currency }}.</p>",
    )
    _csv_fields(
        session,
        mailing_id,
        [(f"biuro{n}@klient{n}.test", f"{n}00,50") for n in range(6)],
    )

    assert run_to_end(fast, mailing_id)

    got = by_recipient(smtp_sink)
    assert sorted(got) == sorted(f"biuro{n}@klient{n}.test" for n in range(6))
    for n in range(6):
        [message] = got[f"biuro{n}@klient{n}.test"]
        mail = parsed(message)
        assert f"Do zapłaty {n}00,50 PLN." in mail.get_body(("plain",)).get_content()
        [pdf] = list(mail.iter_attachments())
        assert pdf.get_filename() == f"zestawienie-FS_{n}_2026.pdf"
        text = pdf_text(pdf.get_content())
        assert f"Kontrahent: Firma {n}" in text and f"{n}00,50 PLN" in text
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["List-Unsubscribe"] is None  # transactional


def test_starting_again_or_after_a_crash_makes_no_second_message(
    session, fast, office, smtp_sink
):
    make_contacts(session, 9)
    mailing_id = make_mailing(session, fast)
    start_mailing(session, fast, mailing_id)
    start_mailing(session, fast, mailing_id)  # a second click, or a retried command

    with embedded_workers(fast):
        start_mailing(session, fast, mailing_id)  # after a "crash" of the first one
        assert wait_finished(fast, mailing_id, 60)

    counts = session.execute(
        select(MailingRecipient.id, func.count(OutgoingMessage.id))
        .join(OutgoingMessage, OutgoingMessage.id == MailingRecipient.outgoing_id)
        .where(MailingRecipient.mailing_id == mailing_id)
        .group_by(MailingRecipient.id)
    ).all()
    assert len(counts) == 9 and all(count == 1 for _id, count in counts)
    assert len(smtp_sink.received) == 9 and not smtp_sink.duplicates()


def test_pause_holds_queued_messages_and_resume_sends_the_rest(
    session, fast, office, smtp_sink
):
    make_contacts(session, 12)
    mailing_id = make_mailing(session, fast)
    start_mailing(session, fast, mailing_id)

    # No worker runs yet: the first chunks render here, then the mailing pauses.
    from mailservice.mailings.rendering import render_chunk

    ids = list(
        session.scalars(
            select(MailingRecipient.id)
            .where(MailingRecipient.mailing_id == mailing_id)
            .order_by(MailingRecipient.position)
        )
    )
    render_chunk(fast, mailing_id, ids[:4])
    held = pause_mailing(session, mailing_id)
    render_chunk(fast, mailing_id, ids[4:8])  # a late job: it renders nothing

    with embedded_workers(fast):
        assert not wait_finished(fast, mailing_id, 1.5)
        progress = mailing_progress(session, mailing_id)
        assert held == 4 and progress.counts["held"] == 4
        assert progress.counts["waiting"] == 8 and not smtp_sink.received

        resume_mailing(session, fast, mailing_id)
        assert wait_finished(fast, mailing_id, 60)

    assert len(by_recipient(smtp_sink)) == 12 and not smtp_sink.duplicates()
    assert get_mailing(session, mailing_id).state == FINISHED


def test_cancel_sends_nothing_more_and_the_report_says_so(
    session, fast, office, smtp_sink
):
    make_contacts(session, 8)
    mailing_id = make_mailing(session, fast)
    start_mailing(session, fast, mailing_id)
    from mailservice.mailings.rendering import render_chunk

    ids = list(
        session.scalars(
            select(MailingRecipient.id)
            .where(MailingRecipient.mailing_id == mailing_id)
            .order_by(MailingRecipient.position)
        )
    )
    render_chunk(fast, mailing_id, ids[:3])

    cancel_mailing(session, mailing_id)
    with embedded_workers(fast):
        wait_finished(fast, mailing_id, 1.5)

    assert smtp_sink.received == []
    assert report_summary(session, mailing_id)["cancelled"] == 8


def test_preview_shows_a_recipients_message_and_a_test_goes_only_to_me(
    session, fast, office, smtp_sink
):
    make_contacts(session, 3)
    mailing_id = make_mailing(session, fast, document=DOCUMENT)

    preview = preview_message(session, fast, mailing_id, 2)
    assert preview.subject == "Zestawienie dla Firma 1"
    assert preview.to == "Firma 1 <biuro1@klient1.test>"
    assert (
        "Dzień dobry, Firma 1." in preview.text and "office@firma.test" in preview.text
    )
    assert "Kontrahent: Firma 1" in pdf_text(preview.attachments[0][2])

    outgoing = send_test(session, fast, mailing_id, 2, "ja@firma.test")
    session.commit()
    with embedded_workers(fast):
        assert smtp_sink.wait_for(1, timeout=30)

    [message] = smtp_sink.received
    assert message.rcpt_tos == ["ja@firma.test"]
    assert parsed(message)["Subject"] == "[TEST] Zestawienie dla Firma 1"
    assert outgoing.contact_id is None  # not in the contact's history
    assert get_mailing(session, mailing_id).state == "draft"


def test_temporary_failures_are_retried_and_permanent_ones_reported(
    session, fast, office, smtp_sink
):
    make_contacts(session, 5)
    smtp_sink.fail_next("451", times=2)
    smtp_sink.refuse("biuro3@klient3.test", "550 5.1.1 no such user")
    mailing_id = make_mailing(session, fast)

    assert run_to_end(fast, mailing_id)

    rows = {row.position: row for row in report_rows(session, mailing_id)}
    assert [rows[n].outcome for n in range(1, 6)] == [
        "sent",
        "sent",
        "sent",
        "failed",
        "sent",
    ]
    assert "550 5.1.1 no such user" in rows[4].reason
    lines = []
    import io

    handle = io.StringIO()
    assert write_report_csv(session, mailing_id, handle) == 5
    lines = handle.getvalue().splitlines()
    assert lines[0].startswith("position,name,address,contact_id,outcome,reason")
    assert "biuro3@klient3.test" in lines[4] and ",failed," in lines[4]


def test_a_new_mailing_from_failures_goes_to_the_failed_only(
    session, fast, office, smtp_sink
):
    make_contacts(session, 4)
    smtp_sink.refuse("biuro2@klient2.test", "550 5.1.1 no such user")
    mailing_id = make_mailing(session, fast, document=DOCUMENT)
    assert run_to_end(fast, mailing_id)

    again = mailing_from_failures(session, fast, mailing_id)
    session.commit()

    rows = list(
        session.scalars(
            select(MailingRecipient).where(MailingRecipient.mailing_id == again.id)
        )
    )
    assert [r.address for r in rows] == ["biuro2@klient2.test"]
    assert again.document_source == DOCUMENT and again.state == "draft"


def test_sent_messages_join_the_contacts_history(session, fast, office, smtp_sink):
    contacts = make_contacts(session, 2)
    mailing_id = make_mailing(session, fast)
    assert run_to_end(fast, mailing_id)

    factory = session_factory(fast.effective_database_url)
    with factory() as fresh:
        history = contact_history(fresh, contacts[1])
    assert [thread.subject for thread in history] == ["Zestawienie dla Firma 1"]


def test_jobs_lost_with_the_broker_are_dispatched_again_when_workers_start(
    session, fast, office, smtp_sink
):
    from mailservice.jobs.broker import setup_broker

    make_contacts(session, 7)
    mailing_id = make_mailing(session, fast)
    start_mailing(session, fast, mailing_id)  # jobs sit in this broker only
    setup_broker(fast)  # a restart: a new in-memory broker, the jobs are gone

    with embedded_workers(fast):  # starts with a sweep that re-dispatches
        assert wait_finished(fast, mailing_id, 60)

    assert len(by_recipient(smtp_sink)) == 7 and not smtp_sink.duplicates()


def test_a_render_claim_left_by_a_dead_worker_is_freed_and_sent_once(
    session, fast, office, smtp_sink
):
    from mailservice.mailings.rendering import _claim

    fast = fast.model_copy(update={"mailing_stranded_seconds": 0.5})
    make_contacts(session, 5)
    mailing_id = make_mailing(session, fast)
    start_mailing(session, fast, mailing_id)
    ids = list(
        session.scalars(
            select(MailingRecipient.id).where(MailingRecipient.mailing_id == mailing_id)
        )
    )
    assert len(_claim(session, mailing_id, ids[:3], "dead-worker:1")) == 3

    with embedded_workers(fast, sweep_every=0.3):
        assert wait_finished(fast, mailing_id, 60)

    assert len(by_recipient(smtp_sink)) == 5 and not smtp_sink.duplicates()

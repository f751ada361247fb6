"""A 500-recipient mailing on two real worker processes (Dramatiq on a private
Redis), one of them killed with SIGKILL halfway: every recipient still ends
with exactly one message, their own.

"Exactly one" is counted by Message-ID. SMTP cannot promise more: a worker
killed after the server's 250 and before its own commit leaves a message that
was delivered but not recorded, and it goes again with the same bytes and the
same Message-ID (RFC 1047 describes this window), which receiving systems fold
into one. Such resends are counted and bounded by what the killed worker had
in hand; a second, different message to anyone is never allowed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailservice.jobs.broker import setup_broker
from mailservice.mailings.models import MailingRecipient
from mailservice.mailings.recipients import get_mailing
from mailservice.mailings.running import start_mailing
from mailservice.outbound.models import SENT, OutgoingMessage
from tests.mailings_support import by_recipient, make_mailing, parsed, wait_finished
from tests.outbound_support import (
    DramatiqWorker,
    RedisServer,
    add_sink_account,
    count_unsettled,
    fast_settings,
)
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)

RECIPIENTS = 500
THREADS = 4


@pytest.fixture
def redis_server(tmp_path):
    """A private Redis (not the shared 6379), stopped after the test."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _embedded_broker_afterwards(settings):
    yield
    setup_broker(settings.model_copy(update={"broker_url": ""}))


def _recipients_csv(session, mailing_id: int) -> None:
    from mailservice.mailings.csvlist import import_recipients_csv

    lines = ["email;amount_due"] + [
        f"klient{n}@odbiorca{n % 7}.test;{n},00" for n in range(RECIPIENTS)
    ]
    import_recipients_csv(
        session, get_mailing(session, mailing_id), "\n".join(lines).encode()
    )
    session.commit()


def test_worker_killed_halfway_leaves_each_recipient_exactly_one_message(
    session, settings, smtp_sink, redis_server, tmp_path
):
    settings = fast_settings(
        settings,
        broker_url=redis_server.url,
        send_batch_size=20,
        send_stranded_seconds=3.0,
        mailing_stranded_seconds=3.0,
        mailing_chunk_size=10,
        send_per_minute=100_000,
        send_per_hour=1_000_000,
    )
    setup_broker(settings)
    add_sink_account(session, settings, smtp_sink.port)
    mailing_id = make_mailing(
        session,
        settings,
        selection={},
        body="<p>Do zapłaty: {{ document.amount_due }} PLN.</p>",
    )
    _recipients_csv(session, mailing_id)
    smtp_sink.slow(0.01)  # a real server takes a moment per message

    first = DramatiqWorker(settings, threads=THREADS, log_path=tmp_path / "a.log")
    second = DramatiqWorker(settings, threads=THREADS, log_path=tmp_path / "b.log")
    with first, second:
        start_mailing(session, settings, mailing_id)
        assert smtp_sink.wait_for(RECIPIENTS // 2, timeout=120)
        first.kill()
        killed_at = len(smtp_sink.received)
        assert count_unsettled(settings) > 0 or _waiting(session, mailing_id) > 0
        assert wait_finished(settings, mailing_id, 180, sweep_every=1.0)

    assert killed_at < RECIPIENTS
    _assert_one_message_each(session, mailing_id, smtp_sink)


def _waiting(session, mailing_id: int) -> int:
    session.expire_all()
    return len(
        session.scalars(
            select(MailingRecipient.id).where(
                MailingRecipient.mailing_id == mailing_id,
                MailingRecipient.state.in_(("pending", "rendering")),
            )
        ).all()
    )


def _assert_one_message_each(session, mailing_id: int, sink) -> None:
    session.expire_all()
    rows = session.execute(
        select(
            MailingRecipient.address,
            OutgoingMessage.message_id_header,
            OutgoingMessage.state,
        )
        .join(OutgoingMessage, OutgoingMessage.id == MailingRecipient.outgoing_id)
        .where(MailingRecipient.mailing_id == mailing_id)
    ).all()
    assert len(rows) == RECIPIENTS
    assert all(state == SENT for _a, _m, state in rows)

    got = by_recipient(sink)
    assert sorted(got) == sorted(address for address, _m, _s in rows)
    expected = {address: message_id for address, message_id, _s in rows}
    resent = 0
    for address, copies in got.items():
        assert {copy.message_id for copy in copies} == {expected[address]}, address
        assert len({copy.data for copy in copies}) == 1  # a resend is the same bytes
        number = int(address.removeprefix("klient").split("@")[0])
        assert (
            f"Do zapłaty: {number},00 PLN."
            in parsed(copies[0]).get_body(("plain",)).get_content()
        )
        resent += len(copies) - 1
    # Only what the killed worker held between the server's 250 and its commit.
    assert resent <= THREADS, f"{resent} messages went twice"
    print(f"killed worker: {resent} message(s) delivered twice with one Message-ID")

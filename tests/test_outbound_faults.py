"""Each SMTP fault the sink can inject ends with every message sent exactly once,
or failed with the server's reason."""

from __future__ import annotations

import time

from mailservice.outbound.models import DEFERRED, FAILED, REFUSED, SENT, OutgoingMessage
from mailservice.outbound.queueing import send_message
from tests.outbound_support import (
    add_sink_account,
    embedded_workers,
    fast_settings,
    states,
    wait_settled,
)
from tests.servers.smtp import SmtpSink, free_port, smtp_sink  # noqa: F401


def _queue(session, settings, account_id, count=1, to=("anna@klient.test",)):
    ids = []
    for number in range(count):
        row = send_message(
            session,
            settings,
            account_id=account_id,
            to=list(to),
            subject=f"Przypomnienie {number}",
            body_html=f"<p>Wiadomość {number}</p>",
        )
        ids.append(row.id)
    session.commit()
    return ids


def _run(settings, timeout=30.0):
    with embedded_workers(settings):
        assert wait_settled(settings, timeout), states(settings)


def _assert_each_sent_once(sink, session, ids):
    session.expire_all()
    rows = [session.get(OutgoingMessage, i) for i in ids]
    assert [r.state for r in rows] == [SENT] * len(ids), states_of(rows)
    assert sorted(sink.message_ids()) == sorted(r.message_id_header for r in rows)
    assert sink.duplicates() == {}


def states_of(rows):
    return {r.id: (r.state, r.last_error) for r in rows}


def test_451_twice_defers_then_sends_once(session, settings, smtp_sink):
    settings = fast_settings(settings)
    ids = _queue(session, settings, add_sink_account(session, settings, smtp_sink.port))
    smtp_sink.fail_next("451", times=2)

    _run(settings)

    _assert_each_sent_once(smtp_sink, session, ids)
    assert session.get(OutgoingMessage, ids[0]).attempts == 2


def test_421_closing_connection_defers_then_sends_batch_once(
    session, settings, smtp_sink
):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    ids = _queue(session, settings, account_id, count=6)
    smtp_sink.fail_next("421")

    _run(settings)

    _assert_each_sent_once(smtp_sink, session, ids)


def test_550_fails_with_the_servers_reason(session, settings, smtp_sink):
    settings = fast_settings(settings)
    ids = _queue(session, settings, add_sink_account(session, settings, smtp_sink.port))
    smtp_sink.fail_next("550")

    _run(settings)

    row = session.get(OutgoingMessage, ids[0])
    session.refresh(row)
    assert row.state == FAILED and row.smtp_code == 550
    assert "550 5.7.1 Message rejected" in row.last_error
    assert smtp_sink.message_ids() == []


def test_connection_dropped_during_data_resends_once(session, settings, smtp_sink):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    ids = _queue(session, settings, account_id, count=5)
    smtp_sink.fail_next("drop", times=2)

    _run(settings)

    _assert_each_sent_once(smtp_sink, session, ids)


def test_slow_server_within_timeout_sends_each_once(session, settings, smtp_sink):
    settings = fast_settings(settings, smtp_timeout_seconds=3.0)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    ids = _queue(session, settings, account_id, count=4)
    smtp_sink.slow(0.4)

    _run(settings)

    _assert_each_sent_once(smtp_sink, session, ids)


def test_refused_recipient_is_reported_and_others_get_the_message(
    session, settings, smtp_sink
):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    smtp_sink.refuse("gone@klient.test", "550 5.1.1 <gone@klient.test>: no such user")
    ids = _queue(
        session, settings, account_id, to=("anna@klient.test", "gone@klient.test")
    )

    _run(settings)

    row = session.get(OutgoingMessage, ids[0])
    session.refresh(row)
    assert row.state == SENT
    refused = {r.address: r for r in row.recipients if r.status == REFUSED}
    assert list(refused) == ["gone@klient.test"]
    assert "no such user" in refused["gone@klient.test"].smtp_reply
    assert smtp_sink.received[0].rcpt_tos == ["anna@klient.test"]


def test_every_recipient_refused_fails(session, settings, smtp_sink):
    settings = fast_settings(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    smtp_sink.refuse("gone@klient.test", "550 5.1.1 no such user")
    ids = _queue(session, settings, account_id, to=("gone@klient.test",))

    _run(settings)

    row = session.get(OutgoingMessage, ids[0])
    session.refresh(row)
    assert row.state == FAILED and "no such user" in row.last_error


def test_server_down_defers_until_it_comes_up(session, settings):
    settings = fast_settings(settings)
    port = free_port()
    ids = _queue(session, settings, add_sink_account(session, settings, port), count=3)

    with embedded_workers(settings):
        assert _wait_state(settings, ids[0], DEFERRED)
        with SmtpSink(port=port) as sink:  # comes up while messages are deferred
            assert wait_settled(settings), states(settings)
            _assert_each_sent_once(sink, session, ids)
    assert session.get(OutgoingMessage, ids[0]).attempts >= 1


def _wait_state(settings, outgoing_id, state, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if states(settings)[outgoing_id][0] == state:
            return True
        time.sleep(0.02)
    return False


def test_temporary_failure_older_than_max_age_fails(session, settings, smtp_sink):
    settings = fast_settings(settings, send_max_age_hours=0.0)
    ids = _queue(session, settings, add_sink_account(session, settings, smtp_sink.port))
    smtp_sink.fail_next("451", times=5)

    _run(settings)

    row = session.get(OutgoingMessage, ids[0])
    session.refresh(row)
    assert (
        row.state == FAILED and "gave up" in row.last_error and "451" in row.last_error
    )

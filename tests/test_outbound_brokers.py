"""Real brokers and real worker processes: Redis and RabbitMQ, a worker killed in
the middle of a batch, and Redis restarted (losing its jobs) while messages wait."""

from __future__ import annotations

import time

import pytest

from mailservice.jobs.broker import setup_broker
from mailservice.outbound.models import SENT, OutgoingMessage
from mailservice.outbound.queueing import send_message
from mailservice.outbound.sweeper import sweep
from tests.outbound_support import (
    DramatiqWorker,
    RedisServer,
    add_sink_account,
    count_unsettled,
    fast_settings,
    states,
)
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"


@pytest.fixture
def redis_server(tmp_path):
    """A private Redis with no persistence, stopped after the test."""
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _embedded_broker_afterwards(settings):
    yield
    setup_broker(settings.model_copy(update={"broker_url": ""}))


def _queue(session, settings, account_id, count):
    rows = [
        send_message(
            session,
            settings,
            account_id=account_id,
            to=["a@klient.test"],
            subject=f"Faktura {n}",
            body_html=f"<p>Faktura {n}</p>",
        )
        for n in range(count)
    ]
    session.commit()
    return [row.id for row in rows]


def _settle_with_sweeper(settings, timeout=60.0, sweep_every=0.5) -> bool:
    """Run the scheduler's sweeper until every row is sent or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_unsettled(settings) == 0:
            return True
        sweep(settings, waited_seconds=1.0)
        time.sleep(sweep_every)
    return count_unsettled(settings) == 0


def _assert_all_sent(session, sink, ids, allowed_duplicates=0):
    session.expire_all()
    rows = [session.get(OutgoingMessage, i) for i in ids]
    assert all(row.state == SENT for row in rows), states_of(rows)
    assert set(sink.message_ids()) == {row.message_id_header for row in rows}
    duplicates = sink.duplicates()
    assert len(duplicates) <= allowed_duplicates, duplicates
    assert all(count == 2 for count in duplicates.values())


def states_of(rows):
    return {row.id: (row.state, row.last_error) for row in rows}


def test_redis_worker_process_sends_each_message_once(
    session, settings, smtp_sink, redis_server, tmp_path
):
    settings = fast_settings(settings, broker_url=redis_server.url)
    setup_broker(settings)
    ids = _queue(
        session, settings, add_sink_account(session, settings, smtp_sink.port), 12
    )

    with DramatiqWorker(settings, log_path=tmp_path / "worker.log"):
        assert _settle_with_sweeper(settings), states(settings)

    _assert_all_sent(session, smtp_sink, ids)


def test_rabbitmq_worker_process_sends_each_message_once(
    session, settings, smtp_sink, tmp_path
):
    settings = fast_settings(settings, broker_url=RABBITMQ_URL)
    broker = setup_broker(settings)
    broker.declare_queue("outbound")
    broker.flush("outbound")  # jobs a previous run left for another database
    ids = _queue(
        session, settings, add_sink_account(session, settings, smtp_sink.port), 5
    )

    with DramatiqWorker(settings, log_path=tmp_path / "worker.log"):
        assert _settle_with_sweeper(settings), states(settings)

    _assert_all_sent(session, smtp_sink, ids)


def test_worker_killed_during_a_batch_resends_at_most_the_message_in_flight(
    session, settings, smtp_sink, redis_server, tmp_path
):
    settings = fast_settings(
        settings,
        broker_url=redis_server.url,
        send_batch_size=10,
        send_stranded_seconds=3.0,
    )
    setup_broker(settings)
    account_id = add_sink_account(session, settings, smtp_sink.port)
    smtp_sink.slow(0.15)
    ids = _queue(session, settings, account_id, 20)

    first = DramatiqWorker(settings, threads=1, log_path=tmp_path / "first.log").start()
    assert smtp_sink.wait_for(3, timeout=30)
    first.kill()
    killed_at = len(smtp_sink.received)
    assert count_unsettled(settings) > 0  # it died with work in hand

    with DramatiqWorker(settings, log_path=tmp_path / "second.log"):
        assert _settle_with_sweeper(settings), states(settings)

    assert killed_at < len(ids)
    _assert_all_sent(session, smtp_sink, ids, allowed_duplicates=1)


def test_redis_restarted_while_messages_wait_loses_none(
    session, settings, smtp_sink, redis_server, tmp_path
):
    settings = fast_settings(settings, broker_url=redis_server.url)
    setup_broker(settings)
    ids = _queue(
        session, settings, add_sink_account(session, settings, smtp_sink.port), 8
    )

    redis_server.restart()  # no persistence: every enqueued job is gone

    with DramatiqWorker(settings, log_path=tmp_path / "worker.log"):
        assert _settle_with_sweeper(settings), states(settings)

    _assert_all_sent(session, smtp_sink, ids)

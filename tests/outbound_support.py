"""Shared pieces of the outbound tests: an account on the SMTP sink, settings
with short retry times, embedded workers, and waiting until the queue settles."""

from __future__ import annotations

import time
from contextlib import contextmanager

from sqlalchemy import func, select

from mailservice.accounts.service import add_account
from mailservice.config import Settings
from mailservice.db.session import session_factory
from mailservice.outbound.models import DEFERRED, QUEUED, SENDING, OutgoingMessage

UNSETTLED = (QUEUED, SENDING, DEFERRED)


def fast_settings(settings: Settings, **changes) -> Settings:
    """The test settings with retries and stranded claims measured in fractions of
    a second, so fault tests end quickly."""
    values = dict(
        send_retry_base_seconds=0.2, send_stranded_seconds=30.0,
        smtp_timeout_seconds=5.0, embedded_worker_threads=2, send_batch_size=10,
        mail_domain="firma.test", company_name="Firma S.A.",
    )
    values.update(changes)
    return settings.model_copy(update=values)


def add_sink_account(session, settings: Settings, port: int, name: str = "office",
                     **extra) -> int:
    """An account whose SMTP server is the sink on loopback; its id."""
    account = add_account(
        session, settings, name=name, imap_host="127.0.0.1", imap_port=1,
        imap_security="none", username=f"{name}@firma.test", secret="secret",
        email=f"{name}@firma.test", smtp_host="127.0.0.1", smtp_port=port,
        smtp_security="none", **extra,
    )
    session.commit()
    return account.id


def count_unsettled(settings: Settings) -> int:
    """Rows still on their way (queued, sending or deferred)."""
    with session_factory(settings.effective_database_url)() as session:
        return session.scalar(
            select(func.count()).where(OutgoingMessage.state.in_(UNSETTLED))
        )


def wait_settled(settings: Settings, timeout: float = 30.0) -> bool:
    """Wait until every outgoing row is sent or failed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count_unsettled(settings) == 0:
            return True
        time.sleep(0.05)
    return False


def states(settings: Settings) -> dict[int, tuple[str, str | None]]:
    """Every outgoing row's state and reason, by id."""
    with session_factory(settings.effective_database_url)() as session:
        rows = session.execute(
            select(OutgoingMessage.id, OutgoingMessage.state, OutgoingMessage.last_error)
        ).all()
    return {row.id: (row.state, row.last_error) for row in rows}


@contextmanager
def embedded_workers(settings: Settings, sweep_every: float = 0.5):
    """Embedded worker threads (StubBroker) running for the block."""
    from mailservice.jobs.embedded import EmbeddedWorkers

    workers = EmbeddedWorkers(settings, sweep_every=sweep_every).start()
    try:
        yield workers
    finally:
        workers.stop()

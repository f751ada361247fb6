"""The outbound actors: send a queued message (with a batch of its account's
others over one connection), keep an account's queue moving, and sweep.

Arguments are plain ids; every job re-reads the database, so running one twice
sends nothing twice (the claim decides who sends).
"""

from __future__ import annotations

import logging

import dramatiq

from mailservice.errors import ConfigurationError, NotFoundError, SecretKeyError
from mailservice.jobs import broker as _broker  # noqa: F401  (the broker comes first)
from mailservice.jobs.broker import job_settings

log = logging.getLogger(__name__)

QUEUE = "outbound"
# A batch on a slow server must end well within this; the sweeper's stranded
# time (send_stranded_seconds) must be longer.
TIME_LIMIT_MS = 10 * 60 * 1000
PERMANENT = (ConfigurationError, NotFoundError, SecretKeyError)


@dramatiq.actor(
    queue_name=QUEUE, max_retries=5, time_limit=TIME_LIMIT_MS, throws=PERMANENT
)
def send_outgoing(outgoing_id: int) -> None:
    """Send an outgoing message, with a batch of its account's other due rows."""
    _run(outgoing_id=outgoing_id)


@dramatiq.actor(
    queue_name=QUEUE, max_retries=5, time_limit=TIME_LIMIT_MS, throws=PERMANENT
)
def deliver_account(account_id: int) -> None:
    """Send the next batch of an account's due rows."""
    _run(account_id=account_id)


@dramatiq.actor(queue_name="outbound_sweep", max_retries=0, time_limit=TIME_LIMIT_MS)
def sweep_outbox() -> None:
    """Release stranded rows, re-dispatch lost jobs, finish sent copies."""
    from mailservice.outbound.sweeper import sweep

    sweep(job_settings())


def _run(**target: int) -> None:
    from mailservice.outbound.delivery import deliver
    from mailservice.outbound.sweeper import finish_sent

    settings = job_settings()
    result = deliver(settings, **target)
    if result.sent:
        finish_sent_safely(finish_sent, settings, result.sent)
    for outgoing_id, delay in result.deferred.items():
        send_outgoing.send_with_options(args=(outgoing_id,), delay=int(delay * 1000))
    if result.full_batch:
        deliver_account.send(result.account_id)
    elif result.wake_job and result.wait_seconds:
        deliver_account.send_with_options(
            args=(result.account_id,), delay=int(result.wait_seconds * 1000)
        )


def finish_sent_safely(finish_sent, settings, ids: list[int]) -> None:
    """Record and file the sent copies; a failure here is left to the sweeper."""
    try:
        finish_sent(settings, ids)
    except Exception:
        # The messages are sent and committed; only their copies wait.
        log.exception("sent copies of %s not finished; the sweeper retries", ids[:10])

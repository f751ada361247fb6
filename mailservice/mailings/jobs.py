"""The mailing actor: render a chunk of recipients and queue their messages.

Its priority number is higher than the outbound actors' (Dramatiq runs the
lowest first), so a worker thread that frees up sends what is rendered before it
renders more: sending overlaps rendering instead of waiting for all of it.
"""

from __future__ import annotations

import logging

import dramatiq

from mailservice.errors import ConfigurationError, NotFoundError, SecretKeyError
from mailservice.jobs import broker as _broker  # noqa: F401  (the broker comes first)
from mailservice.jobs.broker import job_settings

log = logging.getLogger(__name__)

QUEUE = "mailings"
PRIORITY = 10  # after the outbound actors (priority 0)
TIME_LIMIT_MS = 10 * 60 * 1000  # a chunk of PDFs on a busy machine ends far sooner
PERMANENT = (ConfigurationError, NotFoundError, SecretKeyError)


@dramatiq.actor(
    queue_name=QUEUE,
    priority=PRIORITY,
    max_retries=5,
    time_limit=TIME_LIMIT_MS,
    throws=PERMANENT,
)
def render_mailing_chunk(mailing_id: int, recipient_ids: list[int]) -> None:
    """Render the recipients of a chunk and queue their outgoing messages."""
    from mailservice.mailings.rendering import render_chunk

    render_chunk(job_settings(), mailing_id, recipient_ids)

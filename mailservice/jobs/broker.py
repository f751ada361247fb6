"""The one place the Dramatiq broker is chosen: Redis, RabbitMQ, or embedded.

Importing this module sets the process's broker from the settings, so it must be
imported before any actor is declared (actor modules import it first). The
embedded default (empty `broker_url`) is Dramatiq's in-memory StubBroker served
by worker threads in this process; it keeps nothing, which is safe because the
database is the source of truth and the sweeper re-enqueues what waits there.
"""

from __future__ import annotations

import logging

import dramatiq
from dramatiq.brokers.stub import StubBroker

from mailservice.config import Settings, get_settings
from mailservice.errors import ConfigurationError

log = logging.getLogger(__name__)

_settings: Settings | None = None


def make_broker(url: str) -> dramatiq.Broker:
    """A new broker for a URL: redis://..., amqp://..., or empty for embedded."""
    if not url:
        return StubBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url)
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise ConfigurationError(
        f"broker_url must start with redis://, amqp:// or be empty, not {url[:12]!r}"
    )


def setup_broker(settings: Settings) -> dramatiq.Broker:
    """Make the broker for `settings` the process's broker; actors move over to it."""
    global _settings
    previous = dramatiq.get_broker() if _settings is not None else None
    broker = make_broker(settings.broker_url)
    dramatiq.set_broker(broker)
    if previous is not None:
        for actor in list(previous.actors.values()):
            actor.broker = broker
            broker.declare_actor(actor)
        previous.close()
    _settings = settings
    log.info("broker set up: %s", type(broker).__name__)
    return broker


def job_settings() -> Settings:
    """The settings jobs run with: those the broker was set up with."""
    if _settings is None:
        setup_broker(get_settings())
    return _settings


if _settings is None:
    setup_broker(get_settings())

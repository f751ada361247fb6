"""The embedded default: job worker threads inside this process, no broker server.

Dramatiq's StubBroker keeps jobs in memory, so a restart loses them; on start
the sweeper re-enqueues every due row from the database, which loses nothing.
"""

from __future__ import annotations

import logging
import threading

import dramatiq

from mailservice.config import Settings
from mailservice.errors import ConfigurationError
from mailservice.jobs.broker import setup_broker

log = logging.getLogger(__name__)


class EmbeddedWorkers:
    """Worker threads and a periodic sweeper in this process."""

    def __init__(self, settings: Settings, sweep_every: float = 30.0) -> None:
        if settings.broker_url:
            raise ConfigurationError("embedded workers run only with no broker_url set")
        self.settings = settings
        self.sweep_every = sweep_every
        self.broker = setup_broker(settings)
        from mailservice.jobs import worker as _actors  # noqa: F401

        self.worker = dramatiq.Worker(
            self.broker,
            worker_threads=settings.embedded_worker_threads,
            worker_timeout=100,
        )
        self._stop = threading.Event()
        self._sweeper = threading.Thread(
            target=self._sweep_loop, name="outbox-sweeper", daemon=True
        )

    def start(self) -> EmbeddedWorkers:
        """Start the worker threads, re-dispatch everything due, start sweeping."""
        from mailservice.outbound.sweeper import sweep

        self.worker.start()
        sweep(self.settings, waited_seconds=0)
        self._sweeper.start()
        log.info(
            "embedded workers started threads=%d", self.settings.embedded_worker_threads
        )
        return self

    def _sweep_loop(self) -> None:
        from mailservice.outbound.sweeper import sweep

        while not self._stop.wait(self.sweep_every):
            try:
                sweep(self.settings)
            except Exception:
                log.exception("sweep failed; trying again in %.0fs", self.sweep_every)

    def join(self, timeout: float | None = None) -> None:
        """Wait until no job is queued or running (tests, the CLI)."""
        for queue in list(self.broker.queues):
            self.broker.join(queue, timeout=int(timeout * 1000) if timeout else None)
        self.worker.join()

    def stop(self) -> None:
        """Stop sweeping and the worker threads."""
        self._stop.set()
        self.worker.stop()
        if self._sweeper.is_alive():
            self._sweeper.join(timeout=5)
        log.info("embedded workers stopped")

    def __enter__(self) -> EmbeddedWorkers:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

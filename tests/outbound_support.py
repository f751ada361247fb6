"""Shared pieces of the outbound tests: an account on the SMTP sink, settings
with short retry times, embedded workers, and waiting until the queue settles."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

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
        send_retry_base_seconds=0.2,
        send_stranded_seconds=30.0,
        smtp_timeout_seconds=5.0,
        embedded_worker_threads=2,
        send_batch_size=10,
        mail_domain="firma.test",
        company_name="Firma S.A.",
    )
    values.update(changes)
    return settings.model_copy(update=values)


def add_sink_account(
    session, settings: Settings, port: int, name: str = "office", **extra
) -> int:
    """An account whose SMTP server is the sink on loopback; its id."""
    account = add_account(
        session,
        settings,
        name=name,
        imap_host="127.0.0.1",
        imap_port=1,
        imap_security="none",
        username=f"{name}@firma.test",
        secret="secret",
        email=f"{name}@firma.test",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        **extra,
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
            select(
                OutgoingMessage.id, OutgoingMessage.state, OutgoingMessage.last_error
            )
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


class RedisServer:
    """A private redis-server on its own port (not the shared 6379), without
    persistence, so a restart loses every job it held."""

    def __init__(self, workdir: Path) -> None:
        from tests.servers.smtp import free_port

        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The broker URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start it and wait until it answers."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(self.port)
        return self

    def restart(self) -> None:
        """Stop without saving and start empty again."""
        self.stop()
        self.start()

    def stop(self) -> None:
        """Shut it down (nothing is saved)."""
        if self.process is not None:
            subprocess.run(
                ["redis-cli", "-p", str(self.port), "shutdown", "nosave"],
                capture_output=True,
                timeout=10,
            )
            self.process.wait(timeout=10)
            self.process = None


def _wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment that gives a worker process the same settings as a test."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None or isinstance(value, (list, dict)):
            continue
        env[f"MAILSERVICE_{name.upper()}"] = str(value)
    env.pop("MAILSERVICE_CONFIG", None)
    return env


class DramatiqWorker:
    """`dramatiq mailservice.jobs.worker` in its own process group."""

    def __init__(
        self,
        settings: Settings,
        processes: int = 1,
        threads: int = 4,
        log_path: Path | None = None,
    ) -> None:
        self.settings = settings
        self.log_path = log_path
        self.args = [
            str(Path(sys.executable).parent / "dramatiq"),
            "mailservice.jobs.worker",
            "--processes",
            str(processes),
            "--threads",
            str(threads),
        ]
        self.process: subprocess.Popen | None = None

    def start(self) -> DramatiqWorker:
        """Start the worker processes."""
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            self.args,
            env=worker_environment(self.settings),
            start_new_session=True,
            stdout=log,
            stderr=log,
            cwd=Path(__file__).resolve().parents[1],
        )
        if self.log_path:
            log.close()
        return self

    def kill(self) -> None:
        """kill -9 the whole worker group, as a crash would."""
        if self.process is not None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill after a while."""
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
        self.process = None

    def __enter__(self) -> DramatiqWorker:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""The production topology of docker-compose.yml, started as plain processes.

No container engine runs here, so CI starts the same commands the compose file
names (web, watch, scheduler, a Dramatiq worker) against PostgreSQL, Redis,
Dovecot and an SMTP sink, and follows one message in and one message out. The
embedded default (`serve`, SQLite, worker threads, no broker) gets the same run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mailservice.db.session import session_factory
from mailservice.messages.models import PARSED, Message
from mailservice.outbound.models import SENT, OutgoingMessage
from tests.servers.dovecot import HOST, dovecot, free_port, wait_until  # noqa: F401
from tests.servers.smtp import smtp_sink  # noqa: F401  (fixture)
from tests.sync_support import add_imap_account, mail

pytestmark = pytest.mark.imap

BIN = Path(sys.executable).parent
# A Redis database of its own, so other tests' queues never mix with these.
BROKER_URL = "redis://127.0.0.1:6379/13"


class Processes:
    """Long-running commands of one installation, stopped at the end."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs, self.running = env, logs, []

    def start(self, name: str, *argv: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(argv, env=self.env, stdout=log, stderr=log,
                                   start_new_session=True)
        self.running.append((name, process))

    def run(self, *argv: str, extra_env: dict[str, str] | None = None) -> str:
        env = dict(self.env, **(extra_env or {}))
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def assert_alive(self) -> None:
        dead = [(name, p.returncode) for name, p in self.running if p.poll() is not None]
        assert dead == [], f"died: {dead}; see logs in {self.logs}"

    def stop(self) -> dict[str, int]:
        for _name, process in self.running:
            if process.poll() is None:
                # The leader only: it stops its own children (Dramatiq's workers),
                # and a second signal would make them die instead of finish.
                process.send_signal(signal.SIGTERM)
        codes = {}
        for name, process in self.running:
            try:
                codes[name] = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                codes[name] = process.wait()
        return codes


def _env(settings, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSERVICE_")}
    env.update(
        MAILSERVICE_DATABASE_URL=settings.effective_database_url,
        MAILSERVICE_DATA_DIR=str(settings.data_dir),
        MAILSERVICE_OUTBOX_DIR=str(settings.outbox_dir),
        MAILSERVICE_POLL_SECONDS="2",
        **extra,
    )
    return env


def _page_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/login", timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def _count(settings, statement) -> int:
    with session_factory(settings.effective_database_url)() as session:
        return int(session.scalar(statement) or 0)


def _follow_mail_in_and_out(processes, settings, dovecot, user, sink, web_port, tmp):
    assert wait_until(lambda: _page_answers(web_port), 30), "web app did not answer"

    dovecot.append(user, "INBOX", mail(1, "Zamówienie 1/12/2026"))
    parsed = select(func.count(Message.id)).where(Message.parse_status == PARSED)
    assert wait_until(lambda: _count(settings, parsed) == 1, 45), "not synced+parsed"

    body = tmp / "body.txt"
    body.write_text("Dzień dobry,\n\npotwierdzamy zamówienie.\n", encoding="utf-8")
    processes.run(str(BIN / "mailservice"), "send", "--account", "biuro", "--to",
                  "jan@klient.pl", "--subject", "Potwierdzenie zamówienia",
                  "--body-file", str(body), "--timeout", "60")
    assert sink.wait_for(1, 30)
    sent = select(func.count(OutgoingMessage.id)).where(OutgoingMessage.state == SENT)
    assert _count(settings, sent) == 1
    processes.assert_alive()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_compose_roles_as_processes_sync_and_send(
    dovecot, smtp_sink, settings, tmp_path
):
    user = dovecot.add_user()
    add_imap_account(settings, dovecot, user, smtp_host=HOST, smtp_port=smtp_sink.port,
                     smtp_security="none", email="biuro@firma.pl")
    processes = Processes(_env(settings, MAILSERVICE_BROKER_URL=BROKER_URL), tmp_path)
    web_port = free_port()
    ms = str(BIN / "mailservice")
    processes.start("web", ms, "web", "--host", HOST, "--port", str(web_port))
    processes.start("watch", ms, "watch")
    processes.start("scheduler", ms, "scheduler")
    processes.start("worker", str(BIN / "dramatiq"), "mailservice.jobs.worker",
                    "--processes", "1", "--threads", "2")
    try:
        _follow_mail_in_and_out(processes, settings, dovecot, user, smtp_sink,
                                web_port, tmp_path)
    finally:
        codes = processes.stop()
    assert smtp_sink.duplicates() == {}
    assert codes == {"web": 0, "watch": 0, "scheduler": 0, "worker": 0}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_embedded_serve_syncs_and_sends_in_one_process(
    dovecot, smtp_sink, settings, tmp_path
):
    user = dovecot.add_user()
    add_imap_account(settings, dovecot, user, smtp_host=HOST, smtp_port=smtp_sink.port,
                     smtp_security="none", email="biuro@firma.pl")
    processes = Processes(_env(settings), tmp_path)
    web_port = free_port()
    processes.start("serve", str(BIN / "mailservice"), "serve", "--host", HOST,
                    "--port", str(web_port))
    try:
        _follow_mail_in_and_out(processes, settings, dovecot, user, smtp_sink,
                                web_port, tmp_path)
    finally:
        codes = processes.stop()
    assert codes["serve"] == 0

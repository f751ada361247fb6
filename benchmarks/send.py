"""`python -m benchmarks send [--quick] [--messages N]`: outbound mail throughput.

10,000 messages of about 20 KB go through the queue (PostgreSQL, Redis, two
Dramatiq worker processes) to an aiosmtpd sink in its own process that counts
them. In the same run, to the same sink: a plain smtplib loop over one reused
connection sending a prebuilt message, and Postfix's `smtp-source` (Debian's
postfix package, installed here when missing) over one reused connection.
Printed: messages per second of each, and our ratio to the smtplib loop (the aim
is 70 % or more).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from benchmarks._sink_account import add_sink_account
from benchmarks.report import print_json, print_table
from mailservice.config import Settings
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import get_engine, session_scope
from mailservice.jobs.broker import setup_broker
from mailservice.outbound.mime import Envelope, build_message
from mailservice.outbound.queueing import send_message
from tests.outbound_support import RedisServer, worker_environment
from tests.servers.smtp import HOST, free_port

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BODY_BYTES = 20 * 1024
WORKER_PROCESSES, WORKER_THREADS = 2, 8


def _body_html(number: int) -> str:
    paragraph = (
        "<p>Szanowni Państwo, w załączeniu przesyłamy zestawienie należności "
        f"wraz z terminami płatności (pozycja {number}). Prosimy o kontakt.</p>\n"
    )
    return paragraph * (BODY_BYTES // len(paragraph.encode()))


class Sink:
    """The counting aiosmtpd sink, in its own process (it needs a whole core)."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.count_file = workdir / "sink.count"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.servers.smtp",
                "--port",
                str(self.port),
                "--count-file",
                str(self.count_file),
            ],
            cwd=REPO,
        )
        deadline = time.monotonic() + 15
        while not self.count_file.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)

    def count(self) -> int:
        """Messages accepted so far."""
        try:
            return int(self.count_file.read_text() or 0)
        except (OSError, ValueError):
            return 0

    def wait_for(self, count: int, timeout: float) -> float:
        """Wait until `count` messages arrived; the moment the last one did."""
        deadline = time.monotonic() + timeout
        while self.count() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"sink has {self.count()} of {count} messages")
            time.sleep(0.01)
        return time.monotonic()

    def stop(self) -> None:
        """Stop the sink process."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=10)


def _smtplib_loop(port: int, count: int) -> float:
    raw = build_message(
        Envelope(
            message_id=f"bench-{uuid.uuid4().hex}@firma.test",
            from_name="Biuro",
            from_address="biuro@firma.test",
            to=[(None, "klient@klient.test")],
            cc=[],
            subject="Zestawienie",
            html=_body_html(0),
            text="Zestawienie\n",
        ),
        [],
    )
    started = time.monotonic()
    with smtplib.SMTP(HOST, port, local_hostname="bench.localhost") as client:
        for _ in range(count):
            client.sendmail("biuro@firma.test", ["klient@klient.test"], raw)
    return count / (time.monotonic() - started)


def _smtp_source(port: int, count: int) -> float | None:
    binary = shutil.which("smtp-source") or _install_postfix()
    if binary is None:
        return None
    started = time.monotonic()
    subprocess.run(
        [
            binary,
            "-d",
            "-s",
            "1",
            "-l",
            str(BODY_BYTES),
            "-m",
            str(count),
            "-M",
            "bench.localhost",
            "-f",
            "biuro@firma.test",
            "-t",
            "klient@klient.test",
            f"{HOST}:{port}",
        ],
        check=True,
    )
    return count / (time.monotonic() - started)


def _install_postfix() -> str | None:
    print("installing Debian's postfix for smtp-source ...", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "postfix"],
        env=env,
        stdout=subprocess.DEVNULL,
        check=False,
    )
    return shutil.which("smtp-source")


def _database() -> tuple[str, callable]:
    name = f"ms_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)

    def drop() -> None:
        get_engine(url).dispose()
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            )

    return url, drop


def _queue(settings: Settings, port: int, count: int) -> float:
    with session_scope(settings.effective_database_url) as session:
        account = add_sink_account(session, settings, port)
        account_id = account.id
    started = time.monotonic()
    # Two processes compose, as two web or scheduler processes would.
    halves = [(settings, account_id, start, count, 2) for start in range(2)]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        pool.starmap(_queue_part, halves)
    return count / (time.monotonic() - started)


def _queue_part(
    settings: Settings, account_id: int, start: int, count: int, step: int
) -> None:
    setup_broker(settings)
    numbers = list(range(start, count, step))
    for first in range(0, len(numbers), 100):
        with session_scope(settings.effective_database_url) as session:
            for number in numbers[first : first + 100]:
                send_message(
                    session,
                    settings,
                    account_id=account_id,
                    to=[f"klient{number}@klient.test"],
                    subject=f"Zestawienie {number}",
                    body_html=_body_html(number),
                )


def _through_queue(
    settings: Settings, sink: Sink, count: int
) -> tuple[float, float, float]:
    before = sink.count()
    queue_rate = _queue(settings, sink.port, count)
    cpu_before = _children_cpu()
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dramatiq"),
            "mailservice.jobs.worker",
            "--processes",
            str(WORKER_PROCESSES),
            "--threads",
            str(WORKER_THREADS),
        ],
        env=worker_environment(settings),
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=open(settings.data_dir / "worker.log", "wb"),
    )
    try:
        # Timed from the first message the sink gets, so the workers' start-up
        # (imports, broker connection) is not counted as sending time.
        first_seen = sink.wait_for(before + 1, timeout=120)
        last_seen = sink.wait_for(before + count, timeout=count)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    cpu_ms = (_children_cpu() - cpu_before) * 1000 / count
    _report_worker_problems(settings.data_dir / "worker.log")
    return queue_rate, (count - 1) / max(last_seen - first_seen, 1e-6), cpu_ms


def _report_worker_problems(log_path: Path) -> None:
    problems = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if " WARNING " in line or " ERROR " in line or "Traceback" in line
    ]
    if problems:
        print(f"worker log: {len(problems)} warnings or errors, first: {problems[0]}")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str]) -> int:
    """Run the send benchmark and print its table and JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks send")
    parser.add_argument("--quick", action="store_true", help="1,000 messages")
    parser.add_argument("--messages", type=int, default=10_000)
    arguments = parser.parse_args(argv)
    count = 1_000 if arguments.quick else arguments.messages

    workdir = Path(tempfile.mkdtemp(prefix="ms-bench-send-"))
    url, drop = _database()
    redis = RedisServer(workdir).start()
    sink = Sink(workdir)
    try:
        upgrade_database(url)
        settings = Settings(
            data_dir=workdir / "data",
            database_url=url,
            outbox_dir=workdir / "outbox",
            broker_url=redis.url,
            mail_domain="firma.test",
            company_name="Firma S.A.",
            send_batch_size=50,
            smtp_local_hostname="bench.localhost",
        )
        settings.data_dir.mkdir(parents=True)
        setup_broker(settings)
        smtplib_rate = _smtplib_loop(sink.port, count)
        sink.wait_for(count, timeout=60)
        source_rate = _smtp_source(sink.port, count)
        # The sink writes its count every 50 ms: wait until it shows every message
        # so far, or the queue run would start counting from a stale number.
        sink.wait_for(count * (2 if source_rate else 1), timeout=60)
        queue_rate, delivery_rate, cpu_ms = _through_queue(settings, sink, count)
    finally:
        sink.stop()
        redis.stop()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)

    ratio = delivery_rate / smtplib_rate
    print_table(
        ["path", "messages", "msg/s"],
        [
            ["mailservice queue, 2 worker processes (delivery)", count, delivery_rate],
            ["mailservice compose + spool + enqueue (2 processes)", count, queue_rate],
            ["smtplib loop, one reused connection", count, smtplib_rate],
            [
                "postfix smtp-source, one reused connection",
                count,
                source_rate if source_rate is not None else "n/a",
            ],
        ],
    )
    print(
        f"worker CPU per message: {cpu_ms:.1f} ms (both processes, start-up included)"
    )
    print(f"ratio mailservice / smtplib: {ratio:.0%} (aim: 70 % or more)")
    print_json(
        {
            "benchmark": "send",
            "messages": count,
            "delivery_msg_s": round(delivery_rate, 1),
            "queue_msg_s": round(queue_rate, 1),
            "smtplib_msg_s": round(smtplib_rate, 1),
            "smtp_source_msg_s": round(source_rate, 1) if source_rate else None,
            "ratio_to_smtplib": round(ratio, 3),
            "worker_cpu_ms_per_msg": round(cpu_ms, 2),
        }
    )
    return 0

"""`python -m benchmarks mailing [--recipients N] [--quick]`: a bulk mailing end to end.

10,000 recipients (from a CSV list with their own amounts), each with their own
one-page PDF rendered by WeasyPrint from an HTML template, sent by two Dramatiq
worker processes (PostgreSQL, a private Redis) to an aiosmtpd sink in its own
process on loopback. Printed separately: the time to expand (start the mailing:
read its list, mark problems, hand chunks to the workers), to render (until the
last recipient's message is queued) and to deliver (until the sink has them
all), the end-to-end messages per second, and in the same run the floor set by
rendering alone (the same PDFs, two processes, nothing else), a plain smtplib
loop and Postfix's smtp-source to the same sink. Memory: the Python heap of starting
a mailing of N/10 and of N recipients, and the workers' peak RSS early and at the end.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from benchmarks._sink_account import add_sink_account
from benchmarks.report import print_json, print_table
from benchmarks.send import Sink, _database, _smtp_source, _smtplib_loop
from mailservice.config import Settings
from mailservice.contacts.models import Contact, ContactAddress
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import session_scope
from mailservice.jobs.broker import setup_broker
from mailservice.mailings.models import MailingRecipient
from mailservice.outbound.models import OutgoingMessage
from tests.outbound_support import RedisServer, worker_environment

REPO = Path(__file__).resolve().parents[1]
WORKER_PROCESSES, WORKER_THREADS = 2, 4
RENDER_FLOOR_DOCUMENTS = 600

DOCUMENT = """<html><head><style>
body { font-size: 9.5pt; color: #222; } h1 { font-size: 16pt; margin: 0 0 4mm; }
table { width: 100%; border-collapse: collapse; margin-top: 5mm; }
th, td { border: 0.5pt solid #999; padding: 1.5mm 2mm; text-align: left; }
td.n { text-align: right; } .parties { display: flex; gap: 10mm; }
.parties div { flex: 1; } .total { margin-top: 5mm; font-size: 12pt; }
</style></head><body>
<h1>Faktura VAT {{ document.number }}</h1>
<p>Data wystawienia: {{ document.issue_date }}, termin płatności:
<strong>{{ document.due_date }}</strong></p>
<div class="parties">
<div><strong>Sprzedawca</strong><br>{{ sender.company }}<br>ul. Przemysłowa 12<br>
61-001 Poznań<br>NIP 7792433421</div>
<div><strong>Nabywca</strong><br>{{ contact.name }}<br>{{ contact.street }}<br>
{{ contact.postal_code }} {{ contact.city }}<br>NIP {{ contact.nip }}</div></div>
<table><tr><th>Lp.</th><th>Nazwa</th><th>Ilość</th><th>Cena netto</th>
<th>VAT</th><th>Wartość brutto</th></tr>
{% for line in [1, 2, 3, 4, 5, 6, 7, 8] %}<tr><td>{{ line }}</td>
<td>Abonament serwisowy, pozycja {{ line }}</td><td class="n">1</td>
<td class="n">100,00</td><td class="n">23%</td><td class="n">123,00</td></tr>
{% endfor %}</table>
<p class="total">Razem do zapłaty: <strong>{{ document.total }}
{{ document.currency }}</strong></p>
<p>Zapłacono: 0,00 {{ document.currency }}. Pozostaje do zapłaty:
{{ document.amount_due }} {{ document.currency }}.</p>
<p>Numer rachunku: 12 1050 0099 7603 1234 5678 9123, tytułem
{{ document.number }}.</p></body></html>"""

SUBJECT = "Faktura {{ document.number }} od {{ sender.company }}"
BODY = (
    "<p>Dzień dobry,</p><p>w załączeniu faktura <strong>{{ document.number }}"
    "</strong> na kwotę {{ document.total }} {{ document.currency }}, płatna do "
    "{{ document.due_date }}.</p>"
)


def _settings(workdir: Path, url: str, redis_url: str) -> Settings:
    return Settings(
        data_dir=workdir / "data",
        database_url=url,
        outbox_dir=workdir / "outbox",
        broker_url=redis_url,
        mail_domain="firma.test",
        company_name="Firma S.A.",
        send_batch_size=50,
        smtp_local_hostname="bench.localhost",
        mailing_chunk_size=10,
    )


def _contacts(settings: Settings, port: int, count: int) -> Path:
    """The account, `count` contacts, and the bookkeeper's CSV list; its path."""
    with session_scope(settings.effective_database_url) as session:
        add_sink_account(session, settings, port)
    engine = sa.create_engine(settings.effective_database_url)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(Contact),
            [
                {
                    "id": n + 1,
                    "name": f"Klient {n} Sp. z o.o.",
                    "nip": f"{1000000000 + n}",
                    "street": f"ul. Polna {n % 200 + 1}",
                    "postal_code": "00-950",
                    "city": "Warszawa",
                    "country": "PL",
                    "kind": "company",
                }
                for n in range(count)
            ],
        )
        connection.execute(
            sa.insert(ContactAddress),
            [
                {
                    "contact_id": n + 1,
                    "address": f"ksiegowosc@klient{n}.test",
                    "address_norm": f"ksiegowosc@klient{n}.test",
                }
                for n in range(count)
            ],
        )
    engine.dispose()
    path = settings.data_dir / "lista.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("email;number;issue_date;due_date;total;amount_due;currency\n")
        for n in range(count):
            handle.write(
                f"ksiegowosc@klient{n}.test;FS/{n}/11/2026;2026-11-30;"
                f"2026-12-14;{984 + n % 100},00;{984 + n % 100},00;PLN\n"
            )
    return path


def _make_mailing(settings: Settings, csv_path: Path, name: str) -> int:
    from mailservice.mailings.building import build_mailing

    options = {
        "name": name,
        "account": "biuro",
        "subject": SUBJECT,
        "document_name": "faktura-{{ document.number }}.pdf",
        "csv_file": csv_path,
    }
    spec = settings.data_dir / "body.html"
    spec.write_text(BODY, encoding="utf-8")
    document = settings.data_dir / "document.html"
    document.write_text(DOCUMENT, encoding="utf-8")
    options.update(body_file=spec, document_file=document)
    with session_scope(settings.effective_database_url) as session:
        mailing, _notes = build_mailing(session, settings, None, options)
        return mailing.id


def _expand_in_child(
    settings: Settings, mailing_id: int, trace: bool = False
) -> tuple[float, float]:
    """Start the mailing in a process of its own: (seconds, peak RSS in MB), or
    with `trace`, (seconds, peak Python heap in MB during the start, slower)."""
    code = (
        "import json, resource, sys, time, tracemalloc\n"
        "from mailservice.config import get_settings\n"
        "from mailservice.db.session import session_scope\n"
        "from mailservice.jobs.broker import setup_broker\n"
        "from mailservice.mailings.running import start_mailing\n"
        "settings = get_settings(); setup_broker(settings)\n"
        f"trace = {trace}\n"
        "if trace: tracemalloc.start()\n"
        "started = time.monotonic()\n"
        "with session_scope(settings.effective_database_url) as session:\n"
        f"    start_mailing(session, settings, {mailing_id})\n"
        "took = time.monotonic() - started\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "if trace: peak = tracemalloc.get_traced_memory()[1] / 2**20\n"
        "print(json.dumps([took, peak]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=worker_environment(settings),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    took, peak = json.loads(done.stdout.strip().splitlines()[-1])
    return took, peak


def _heap_peaks(settings: Settings, csv_path: Path, count: int) -> tuple[float, float]:
    """Peak Python heap of starting a mailing of N/10 and of N recipients (both
    cancelled again before any worker runs)."""
    small_csv = settings.data_dir / "lista-mala.csv"
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    small_csv.write_text("\n".join(lines[: count // 10 + 1]) + "\n", "utf-8")
    peaks = []
    for path, name in ((small_csv, "N/10"), (csv_path, "N")):
        mailing_id = _make_mailing(settings, path, f"Faktury ({name}, memory)")
        peaks.append(_expand_in_child(settings, mailing_id, trace=True)[1])
        _cancel(settings, mailing_id)
    return peaks[0], peaks[1]


def _cancel(settings: Settings, mailing_id: int) -> None:
    from mailservice.mailings.running import cancel_mailing

    with session_scope(settings.effective_database_url) as session:
        cancel_mailing(session, mailing_id)


def _worker_pids(master: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                children.append(int(entry.name))
    return children


def _cpu_seconds(pids: list[int]) -> float:
    """User and system CPU the processes used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def _peak_rss_mb(pids: list[int]) -> float:
    peak = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return peak


def _queued_and_sent(settings: Settings, mailing_id: int) -> tuple[int, int]:
    with session_scope(settings.effective_database_url) as session:
        rows = session.execute(
            sa.select(OutgoingMessage.state, sa.func.count())
            .join(MailingRecipient, MailingRecipient.outgoing_id == OutgoingMessage.id)
            .where(MailingRecipient.mailing_id == mailing_id)
            .group_by(OutgoingMessage.state)
        ).all()
    counts = dict(rows)
    return sum(counts.values()), counts.get("sent", 0)


def _run(settings: Settings, sink: Sink, mailing_id: int, count: int) -> dict:
    before = sink.count()
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
        stderr=open(settings.data_dir / "worker.log", "wb"),  # noqa: SIM115
    )
    try:
        time.sleep(3.0)  # let the workers import and connect: not the mailing's time
        pids = _worker_pids(worker.pid)
        cpu_before = _cpu_seconds(pids)
        started = time.monotonic()
        expand_seconds, expand_peak = _expand_in_child(settings, mailing_id)
        figures = _watch(settings, sink, mailing_id, count, before, started, pids)
        figures["worker_cpu_ms"] = (_cpu_seconds(pids) - cpu_before) * 1000 / count
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    figures.update(expand_s=expand_seconds, expand_peak_mb=expand_peak)
    return figures


def _watch(settings, sink, mailing_id, count, before, started, pids) -> dict:
    rendered_at = early_peak = None
    deadline = started + count * 2.0
    while True:
        queued, _sent = _queued_and_sent(settings, mailing_id)
        now = time.monotonic()
        if rendered_at is None and queued >= count:
            rendered_at = now
        if early_peak is None and sink.count() - before >= count // 10:
            early_peak = _peak_rss_mb(pids)
        if sink.count() - before >= count:
            delivered_at = now
            break
        if now > deadline:
            raise RuntimeError(f"sink has {sink.count() - before} of {count}")
        time.sleep(0.25)
    return {
        "render_s": rendered_at - started,
        "deliver_s": delivered_at - started,
        "tail_s": delivered_at - rendered_at,
        "e2e_msg_s": count / (delivered_at - started),
        "worker_peak_mb_10pct": early_peak or 0.0,
        "worker_peak_mb_end": _peak_rss_mb(pids),
    }


def _render_one(number: int) -> float:
    from mailservice.documents.render import render_pdf
    from mailservice.templating.fields import SAMPLE, build_context
    from mailservice.templating.rendering import render_source

    context = build_context(**SAMPLE)
    context["document"]["number"] = f"FS/{number}/11/2026"
    started = time.process_time()
    render_pdf(render_source(DOCUMENT, context, html=True, what="document"))
    return time.process_time() - started


def _render_floor(documents: int) -> tuple[float, float]:
    """PDFs per second with two processes doing nothing but rendering, and the
    CPU milliseconds of one PDF."""
    with multiprocessing.get_context("fork").Pool(WORKER_PROCESSES) as pool:
        pool.map(_render_one, range(WORKER_PROCESSES * 2))  # warm: fonts, imports
        started = time.monotonic()
        cpu = pool.map(_render_one, range(documents), chunksize=10)
        rate = documents / (time.monotonic() - started)
    return rate, sum(cpu) * 1000 / documents


def main(argv: list[str]) -> int:
    """Run the mailing benchmark and print its table and JSON line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks mailing")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="1,000 recipients")
    arguments = parser.parse_args(argv)
    count = 1_000 if arguments.quick else arguments.recipients

    workdir = Path(tempfile.mkdtemp(prefix="ms-bench-mailing-"))
    url, drop = _database()
    redis = RedisServer(workdir).start()
    sink = Sink(workdir)
    try:
        upgrade_database(url)
        settings = _settings(workdir, url, redis.url)
        settings.data_dir.mkdir(parents=True)
        setup_broker(settings)
        csv_path = _contacts(settings, sink.port, count)
        heap = _heap_peaks(settings, csv_path, count)
        mailing_id = _make_mailing(settings, csv_path, "Faktury listopad")
        floor_before = _render_floor(min(RENDER_FLOOR_DOCUMENTS, count))
        figures = _run(settings, sink, mailing_id, count)
        floor_after = _render_floor(min(RENDER_FLOOR_DOCUMENTS, count))
        smtplib_rate = _smtplib_loop(sink.port, count)
        source_rate = _smtp_source(sink.port, count)
    finally:
        sink.stop()
        redis.stop()
        drop()
        shutil.rmtree(workdir, ignore_errors=True)
    # The machine is shared: the floor is measured before and after, and CPU
    # per message compares the two without the load of other processes.
    floor = (floor_before[0] + floor_after[0]) / 2
    figures["pdf_cpu_ms"] = (floor_before[1] + floor_after[1]) / 2
    _print(count, figures, floor, heap, smtplib_rate, source_rate)
    return 0


def _print(count, f, floor, heap, smtplib_rate, source_rate) -> None:
    rows = [
        ["expand (start: list, problems, chunks to workers)", count, f["expand_s"], ""],
        [
            "render (until the last message is queued)",
            count,
            f["render_s"],
            count / f["render_s"],
        ],
        ["deliver (until the sink has them all)", count, f["deliver_s"], ""],
        ["  of which after the last render", count, f["tail_s"], ""],
        ["end to end, 2 worker processes", count, f["deliver_s"], f["e2e_msg_s"]],
        [
            "floor: WeasyPrint alone, 2 processes",
            min(RENDER_FLOOR_DOCUMENTS, count),
            "",
            floor,
        ],
        ["smtplib loop, prebuilt message", count, "", smtplib_rate],
        ["postfix smtp-source", count, "", source_rate if source_rate else "n/a"],
    ]
    print_table(["step", "messages", "seconds", "msg/s"], rows)
    print(
        f"end to end / rendering floor: {f['e2e_msg_s'] / floor:.0%} (wall); CPU per "
        f"message {f['worker_cpu_ms']:.0f} ms in the workers vs "
        f"{f['pdf_cpu_ms']:.0f} ms for the PDF alone "
        f"({f['pdf_cpu_ms'] / f['worker_cpu_ms']:.0%})"
    )
    print(
        f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} "
        "cores"
    )
    print(
        f"starting the mailing: Python heap peak {heap[0]:.1f} MB at {count // 10} "
        f"recipients, {heap[1]:.1f} MB at {count}; process peak RSS "
        f"{f['expand_peak_mb']:.0f} MB"
    )
    print(
        f"worker peak RSS: {f['worker_peak_mb_10pct']:.0f} MB at 10 % sent, "
        f"{f['worker_peak_mb_end']:.0f} MB at the end"
    )
    print_json(
        {
            "benchmark": "mailing",
            "recipients": count,
            **{key: round(value, 2) for key, value in f.items()},
            "render_floor_msg_s": round(floor, 2),
            "expand_heap_mb_tenth": round(heap[0], 2),
            "expand_heap_mb": round(heap[1], 2),
            "smtplib_msg_s": round(smtplib_rate, 1),
            "smtp_source_msg_s": round(source_rate, 1) if source_rate else None,
        }
    )

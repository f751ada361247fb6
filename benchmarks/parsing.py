"""Parsing the corpus: headers on the hot path, bodies behind it, against peers.

`python -m benchmarks parsing [--quick]`

Every corpus message (tests/corpus.py) parsed in one process, best pass of three;
then `extract_pending` end to end on SQLite, in one process and with two worker
processes (their start included), over the corpus copied eight times (a header
line makes each copy distinct). The corpus is hard on parsers: a 200 KB subject,
a 135 KB To header, 3 MB forwards. Needs the `__main__` guard of `-m` (spawn).
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
from datetime import datetime, timezone
from email import policy
from email.parser import BytesParser
from pathlib import Path

import mailparser

from benchmarks.report import print_json, print_table
from mailservice.config import Settings
from mailservice.db.migrate import upgrade_database
from mailservice.db.session import session_scope
from mailservice.errors import MessageParseError
from mailservice.messages.extract import extract_pending
from mailservice.messages.models import HEADERS_ONLY, Message
from mailservice.parsing.body import parse_body
from mailservice.parsing.headers import parse_headers
from mailservice.store.raw import RawStore
from tests.corpus import corpus_messages

ARRIVED = datetime(2026, 3, 2, tzinfo=timezone.utc)


def main(argv: list[str]) -> int:
    """Run the benchmark and print its table and JSON line."""
    logging.disable(logging.WARNING)  # mail-parser and quarantines log per message
    raws = [raw for _label, raw in corpus_messages()]
    passes = 1 if "--quick" in argv else 3
    copies = 2 if "--quick" in argv else 8

    rows = {
        "parse_headers": _rate(raws, lambda r: parse_headers(r, ARRIVED), passes),
        "parse_body": _rate(raws, _body, passes),
        "stdlib policy.default, full": _rate(raws, _stdlib_default, passes),
        "stdlib compat32, full": _rate(raws, BytesParser().parsebytes, passes),
        "mail-parser, full": _rate(raws, _mail_parser, 1),
        "extract_pending, 1 process": _extract_rate(raws, copies, workers=1),
        "extract_pending, 2 workers": _extract_rate(raws, copies, workers=2),
    }
    typical = 1 / statistics.median(_each(raws, lambda r: parse_headers(r, ARRIVED)))

    print_table(["stage", "messages", "seconds", "msg/s"],
                [[name, n, secs, n / secs] for name, (n, secs) in rows.items()])
    print(f"parse_headers, median message: {typical:,.0f} msg/s")
    print_json({
        "benchmark": "parsing",
        **{_key(name): round(n / secs) for name, (n, secs) in rows.items()},
        "parse_headers_median_msg_per_s": round(typical),
    })
    return 0


def _rate(raws: list[bytes], parse, passes: int) -> tuple[int, float]:
    best = float("inf")
    for _ in range(passes):
        began = time.perf_counter()
        for raw in raws:
            parse(raw)
        best = min(best, time.perf_counter() - began)
    return len(raws), best


def _each(raws: list[bytes], parse) -> list[float]:
    times = []
    for raw in raws:
        began = time.perf_counter()
        parse(raw)
        times.append(time.perf_counter() - began)
    return times


def _body(raw: bytes) -> None:
    try:
        parse_body(raw)
    except MessageParseError:
        pass


def _stdlib_default(raw: bytes) -> None:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    for part in message.walk():
        if not part.is_multipart():
            part.get_payload(decode=True)


def _mail_parser(raw: bytes) -> None:
    try:
        mailparser.parse_from_bytes(raw)
    except Exception:  # it raises AttributeError on one corpus mbox message
        pass


def _extract_rate(raws: list[bytes], copies: int, workers: int) -> tuple[int, float]:
    folder = Path(tempfile.mkdtemp())
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'b.db'}")
    upgrade_database(settings.effective_database_url)
    store = RawStore(settings.effective_raw_store_dir, fsync=False)
    with session_scope(settings.effective_database_url) as session:
        for copy in range(copies):
            for raw in dict.fromkeys(raws):  # a few corpus files are twins
                _insert(session, store, b"X-Copy: %d\r\n" % copy + raw)

    began = time.perf_counter()
    counts = extract_pending(settings, workers=workers)
    return counts.done, time.perf_counter() - began


def _insert(session, store: RawStore, raw: bytes) -> None:
    sha = store.put(raw)
    session.add(Message(identity_key=sha, raw_sha256=sha, size=len(raw),
                        parse_status=HEADERS_ONLY))


def _key(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return "_".join(words) + "_msg_per_s"

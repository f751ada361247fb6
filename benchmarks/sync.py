"""`python -m benchmarks sync`: our IMAP sync against mbsync and the raw floor.

Options: --quick (2,000 messages), --messages N (default 20,000),
--databases sqlite,postgresql, --repeat N (medians of N rounds), --memory-check
(also sync a mailbox a tenth the size: peak memory must not grow with the
mailbox), --profile (one more full sync under cProfile: where the time goes).

A seeded company mailbox (benchmarks/_sync_mailbox.py, cached under .bench/) is
served by Dovecot. In one run and from the same server: our full sync and our
no-change re-sync as `mailservice sync` processes on each database, then the
extraction behind them (`mailservice extract`); mbsync (Debian's isync) pulling
it into a local Maildir and its no-change second run; and the raw floor, plain
imaplib fetching every message and discarding it. Needs Debian's dovecot-imapd
and isync (scripts/bootstrap.sh --test) and PostgreSQL on 127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import _sync_runs as runs
from benchmarks._sync_mailbox import Mailbox, mailbox
from benchmarks._sync_profile import print_profile
from benchmarks.report import print_json, print_table

FULL_ROWS = ("ours full", "mbsync full", "raw floor", "extraction")


def main(argv: list[str]) -> int:
    """Run the benchmark and print its tables and JSON line."""
    options = _options(argv)
    # Stopped with SIGTERM, still stop Dovecot and drop the databases (finally:).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    missing = [tool for tool in ("dovecot", "mbsync", runs.GNU_TIME)
               if shutil.which(tool) is None]
    if missing:
        print(f"missing: {', '.join(missing)}; install Debian's dovecot-imapd, isync "
              "and time (scripts/bootstrap.sh --test)")
        return 2
    load_before = os.getloadavg()
    began = time.perf_counter()
    box = mailbox(options.messages)
    generated = time.perf_counter() - began
    print(f"mailbox: {box.messages:,} messages, {box.megabytes:,.0f} MB "
          f"({box.attachments} with attachments, {box.html} HTML), folders "
          f"{box.folders}; ready in {generated:.1f} s")

    workdir = Path(tempfile.mkdtemp(prefix="ms-bench-sync-"))
    try:
        with runs.MailServer() as server:
            user = server.serve(box)
            rounds = [_round(server, user, box, options.databases, workdir)
                      for _ in range(options.repeat)]
            memory = _memory(server, box, rounds, options, workdir)
            if options.profile:
                _profile(server, user, box, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    rows = _medians(rounds)
    _print_results(box, rows, rounds, memory, options)
    print(f"load average (1 min): {load_before[0]:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after, on {os.cpu_count()} cores")
    print_json(_figures(box, rows, rounds, memory, options, load_before))
    return 0


def _options(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks sync")
    parser.add_argument("--quick", action="store_true", help="2,000 messages")
    parser.add_argument("--messages", type=int, default=None)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--memory-check", action="store_true")
    parser.add_argument("--profile", action="store_true")
    options = parser.parse_args(argv)
    options.messages = options.messages or (2_000 if options.quick else 20_000)
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    unknown = set(options.databases) - {"sqlite", "postgresql"}
    if unknown:
        parser.error(f"unknown database(s) {', '.join(sorted(unknown))}; "
                     "use sqlite and/or postgresql")
    return options


def _round(server: runs.MailServer, user, box: Mailbox, databases: list[str],
           workdir: Path) -> dict:
    """One run of every contender; rows by name, and our database checks."""
    rows: dict[str, runs.Measured] = {}
    checks: dict[str, dict] = {}
    for database in databases:
        result = runs.ours(server, user, box, database, workdir)
        rows[f"ours full, {database}"] = result.full
        rows[f"ours re-sync, {database}"] = result.resync
        rows[f"extraction, {database}"] = result.extract
        checks[database] = result.check
    full, resync = runs.mbsync(server, user, box, workdir)
    rows["mbsync full"], rows["mbsync re-sync"] = full, resync
    rows["raw floor"] = runs.raw_floor(server, user, box, workdir)
    print(f"round done: {', '.join(f'{k} {v.seconds:.2f} s' for k, v in rows.items())}",
          flush=True)
    return {"rows": rows, "checks": checks}


def _medians(rounds: list[dict]) -> dict[str, runs.Measured]:
    names = list(rounds[0]["rows"])
    return {
        name: _median_run([r["rows"][name] for r in rounds]) for name in names
    }


def _median_run(measured: list[runs.Measured]) -> runs.Measured:
    """The run of median time, with its own peak and output (lower middle if even)."""
    return sorted(measured, key=lambda run: run.seconds)[(len(measured) - 1) // 2]


def _memory(server, box: Mailbox, rounds: list[dict], options, workdir: Path) -> dict:
    """Peak MB of our full sync for a mailbox a tenth the size and for this one."""
    if not options.memory_check:
        return {}
    database = options.databases[0]
    small_box = mailbox(max(options.messages // 10, 100))
    small_user = server.serve(small_box)
    small = runs.ours_full_only(server, small_user, small_box, database, workdir)
    large = _median_run([r["rows"][f"ours full, {database}"] for r in rounds])
    return {"database": database, "sizes": {
        small_box.messages: (small_box.megabytes, small.peak_mb, small.working_mb),
        box.messages: (box.megabytes, large.peak_mb, large.working_mb),
    }}


def _profile(server, user, box: Mailbox, workdir: Path) -> None:
    run, stats = runs.ours_profiled(server, user, box, workdir)
    print(f"\nprofile: our full sync on SQLite under cProfile took {run.seconds:.1f} s "
          "(cProfile slows Python code down, C code less)")
    print_profile(stats)


def _print_results(box: Mailbox, rows: dict, rounds: list[dict], memory: dict,
                   options) -> None:
    print(f"\n{box.messages:,} messages, {box.megabytes:,.0f} MB; "
          f"medians of {len(rounds)} round(s)")
    table = []
    for name, run in rows.items():
        moved = name.startswith(FULL_ROWS)
        table.append([
            name, box.messages if moved else 0, run.seconds, run.cpu_seconds,
            box.messages / run.seconds if moved else "-",
            box.megabytes / run.seconds if moved else "-",
            run.peak_mb,
            run.working_mb if run.working_mb is not None else "-",
        ])
    print_table(["run", "messages", "seconds", "cpu s", "msg/s", "MB/s", "peak MB",
                 "syncing MB"], table)
    print("cpu s: user + system time of the run's processes; syncing MB: our sync's "
          "largest resident size after start-up (sampled)")

    for name, run in rows.items():
        if name.startswith("ours") and run.reported_seconds is not None:
            print(f"{name}: the sync itself {run.reported_seconds:.2f} s, process "
                  f"start and imports {run.seconds - run.reported_seconds:.2f} s")

    print()
    print_table(["ratio", "value"], [[k, v] for k, v in _ratios(rows, options).items()])
    for database, check in rounds[-1]["checks"].items():
        print(f"{database}: {check['messages']:,} messages, {check['threads']:,} "
              f"threads, {check['linked']:,} linked to a contact, "
              f"{check['extracted']:,} extracted")
    if memory:
        print(f"\nmemory check, our full sync on {memory['database']} (syncing: the "
              "largest resident size sampled after it connected)")
        print_table(["messages", "mailbox MB", "peak MB", "syncing MB"],
                    [[n, *(v if v is not None else "-" for v in values)]
                     for n, values in memory["sizes"].items()])


def _ratios(rows: dict, options) -> dict[str, float]:
    ratios = {}
    mbsync, floor = rows["mbsync full"].seconds, rows["raw floor"].seconds
    for database in options.databases:
        full = rows[f"ours full, {database}"].seconds
        resync = rows[f"ours re-sync, {database}"].seconds
        extract = rows[f"extraction, {database}"].seconds
        ratios[f"ours full / mbsync full, msg/s, {database}"] = mbsync / full
        ratios[f"ours full / raw floor, msg/s, {database}"] = floor / full
        ratios[f"ours re-sync / mbsync re-sync, time, {database}"] = (
            resync / rows["mbsync re-sync"].seconds)
        ratios[f"ours full + extraction / mbsync full, time, {database}"] = (
            (full + extract) / mbsync)
    return ratios


def _figures(box: Mailbox, rows: dict, rounds: list[dict], memory: dict, options,
             load_before: tuple) -> dict:
    figures = {"benchmark": "sync", "messages": box.messages,
               "megabytes": round(box.megabytes), "rounds": len(rounds),
               "load_average_before": round(load_before[0], 2),
               "load_average_after": round(os.getloadavg()[0], 2)}
    for name, run in rows.items():
        key = _key(name)
        figures[f"{key}_seconds"] = round(run.seconds, 3)
        figures[f"{key}_peak_mb"] = round(run.peak_mb, 1)
        figures[f"{key}_cpu_seconds"] = round(run.cpu_seconds, 2)
        if run.working_mb is not None:
            figures[f"{key}_syncing_mb"] = round(run.working_mb, 1)
        if name.startswith(FULL_ROWS):
            figures[f"{key}_msg_per_s"] = round(box.messages / run.seconds)
    figures.update({_key(k): round(v, 3) for k, v in _ratios(rows, options).items()})
    for database, check in rounds[-1]["checks"].items():
        figures.update({f"{database}_{k}": v for k, v in check.items()})
    for n, (_mb, peak, working) in memory.get("sizes", {}).items():
        figures[f"memory_{n}_messages_peak_mb"] = round(peak, 1)
        figures[f"memory_{n}_messages_syncing_mb"] = working and round(working, 1)
    return figures


def _key(name: str) -> str:
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return "_".join(words)

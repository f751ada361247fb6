"""The contenders of the sync benchmark, each run as a child process and measured.

A run is timed from process start to exit (what a user waits for, interpreter
start included); its peak resident memory is GNU time's: that of the largest
process of the run's tree (for the extraction, its parent or one worker).
Dovecot serves every contender the same mailbox, linked (not copied) from the
benchmark's cache into a user of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from benchmarks._sync_floor import fetch_everything
from benchmarks._sync_mailbox import OFFICE, Mailbox
from tests.servers.dovecot import HOST, DovecotServer, MailUser

REPO = Path(__file__).resolve().parents[1]
MAILSERVICE = Path(sys.executable).with_name("mailservice")
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
GNU_TIME = "/usr/bin/time"  # Debian's `time` package
# mbsync sleeps a second when a Maildir changed within the last second (its
# change detection goes by timestamps); a re-sync minutes later never meets it.
MBSYNC_SETTLE_SECONDS = 1.5
SAMPLE_SECONDS = 0.05
# Logged by the sync once its imports are done and it has connected.
SYNC_STARTED = "imap connected"
# The end of `mailservice sync`'s summary line: "... deleted on server, 2.41 s"
_SUMMARY = re.compile(r"deleted on server, ([0-9.]+) s$", re.MULTILINE)


class BenchError(RuntimeError):
    """Raised when a contender fails or leaves the mailbox incomplete."""


@dataclass
class Measured:
    """One run: wall seconds, peak resident MB, and what it printed."""

    seconds: float
    peak_mb: float
    output: str = ""
    working_mb: float | None = None  # sampled past start-up, when asked for
    cpu_seconds: float = 0.0  # user and system, of the run's whole process tree

    @property
    def reported_seconds(self) -> float | None:
        """The time `mailservice sync` reports for its own work (startup excluded)."""
        found = _SUMMARY.findall(self.output)
        return float(found[-1]) if found else None


@dataclass
class OursResult:
    """Our full sync, no-change re-sync and extraction on one database."""

    full: Measured
    resync: Measured
    extract: Measured
    check: dict[str, int] = field(default_factory=dict)


def timed(argv: list[str], log: Path, env: dict | None = None,
          cwd: Path | None = None, watch_after: str | None = None) -> Measured:
    """Run argv to its end; its time and peak memory, or BenchError if it failed.

    With `watch_after`, the run's resident memory is also sampled from the
    moment that text shows in its output: its working set past start-up.
    """
    # GNU time reports the child's peak. Measured from here, a child would also
    # count the pages it shared with this process when it was forked (Linux
    # carries the parent's high-water mark across fork and exec).
    peak_file = log.with_suffix(".usage")
    # Dirty pages left by an earlier run (mbsync writes without fsync) would
    # otherwise be flushed by the next run's syncfs, on its clock.
    os.sync()
    with log.open("wb") as out:
        began = time.perf_counter()
        process = subprocess.Popen(
            [GNU_TIME, "-f", "%M %U %S", "-o", str(peak_file), *argv],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=env, cwd=cwd,
        )
        try:
            working = _sample_rss(process, log, watch_after) if watch_after else None
            code = process.wait()
        except BaseException:  # interrupted: leave no contender running
            for child in _children(process.pid):
                os.kill(child, signal.SIGKILL)
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - began
    output = log.read_text(errors="replace")
    if code != 0:
        raise BenchError(f"{' '.join(map(str, argv))} exited {code}:\n{output[-3000:]}")
    peak_kb, user, system = peak_file.read_text().split()[-3:]
    return Measured(seconds, int(peak_kb) / 1024, output, working,
                    float(user) + float(system))


def _sample_rss(process: subprocess.Popen, log: Path, marker: str) -> float | None:
    """The largest resident size (MB) of the run's processes once `marker` showed."""
    peak, started = None, False
    while process.poll() is None:
        started = started or marker in log.read_text(errors="replace")
        if started:
            sizes = [_rss_kb(pid) for pid in _children(process.pid)]
            peak = max([peak or 0, *(size / 1024 for size in sizes)])
        time.sleep(SAMPLE_SECONDS)
    return peak


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def _rss_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found[1]) if found else 0


class MailServer:
    """Dovecot serving generated mailboxes, each to a user of its own."""

    def __init__(self) -> None:
        self.dovecot = DovecotServer()

    def __enter__(self) -> MailServer:
        self.dovecot.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.dovecot.stop()

    @property
    def port(self) -> int:
        return self.dovecot.port

    def serve(self, box: Mailbox) -> MailUser:
        """A new user whose Maildir is `box`; read once, so Dovecot's indexes exist."""
        user = self.dovecot.add_user()
        target = self.dovecot.maildir_path(user, "INBOX")
        _link_tree(box.maildir, target)
        _chown_tree(target.parent, self.dovecot)
        messages, _size = fetch_everything(self.port, user.name, user.password)
        if messages != box.messages:
            raise BenchError(f"Dovecot serves {messages} of {box.messages} messages")
        return user


def _link_tree(source: Path, target: Path) -> None:
    # Hard links: a 20,000-message mailbox is in place in a second, and Dovecot
    # never rewrites a message file (it renames it to change flags; the cache
    # keeps its own name).
    for folder, _dirs, files in os.walk(source):
        destination = target / Path(folder).relative_to(source)
        destination.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                os.link(Path(folder) / name, destination / name)
            except OSError:  # another file system
                shutil.copy2(Path(folder) / name, destination / name)


def _chown_tree(top: Path, dovecot: DovecotServer) -> None:
    owner = dovecot._mail_uid, dovecot._mail_gid
    for folder, dirs, files in os.walk(top):
        for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
            os.chown(name, *owner)


# -- ours -----------------------------------------------------------------------

def ours(server: MailServer, user: MailUser, box: Mailbox, database: str,
         workdir: Path) -> OursResult:
    """Our full sync, a no-change re-sync and the extraction, on a fresh database."""
    folder = workdir / f"ours-{database}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    url, drop = _database(database, folder)
    try:
        env = _prepare(server, user, box, url, folder)
        full = timed([str(MAILSERVICE), "sync"], folder / "full.log", env, folder,
                     watch_after=SYNC_STARTED)
        resync = timed([str(MAILSERVICE), "sync"], folder / "resync.log", env, folder)
        if " 0 new messages" not in resync.output:
            raise BenchError(f"the re-sync found changes:\n{resync.output[-2000:]}")
        extract = timed([str(MAILSERVICE), "extract"], folder / "extract.log", env,
                        folder)
        check = _check(url, box)
    finally:
        drop()
        shutil.rmtree(folder, ignore_errors=True)
    return OursResult(full, resync, extract, check)


def ours_profiled(server: MailServer, user: MailUser, box: Mailbox,
                  workdir: Path) -> tuple[Measured, Path]:
    """Our full sync on SQLite under cProfile; its run and the stats file."""
    folder = workdir / f"profile-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    env = _prepare(server, user, box, "", folder)
    stats = workdir / "sync.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(stats), str(MAILSERVICE),
            "sync"]
    return timed(argv, folder / "profile.log", env, folder), stats


def ours_full_only(server: MailServer, user: MailUser, box: Mailbox, database: str,
                   workdir: Path) -> Measured:
    """Our full sync alone, on a fresh database (for the memory check)."""
    folder = workdir / f"memory-{database}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    url, drop = _database(database, folder)
    try:
        env = _prepare(server, user, box, url, folder)
        return timed([str(MAILSERVICE), "sync"], folder / "full.log", env, folder,
                     watch_after=SYNC_STARTED)
    finally:
        drop()
        shutil.rmtree(folder, ignore_errors=True)


def _prepare(server: MailServer, user: MailUser, box: Mailbox, url: str,
             folder: Path) -> dict:
    # Only this run's settings: none inherited, no TOML file (config.py).
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILSERVICE_")}
    env.update(
        MAILSERVICE_DATA_DIR=str(folder / "data"),
        MAILSERVICE_DATABASE_URL=url,
        MAILSERVICE_CONFIG="",  # set but empty: no settings file
        MAILSERVICE_ACCOUNT_PASSWORD=user.password,
    )
    steps = [
        ["init"],
        ["account", "add", "bench", "--imap-host", HOST, "--imap-port",
         str(server.port), "--imap-security", "none", "--username", user.name,
         "--email", OFFICE],
        ["contacts", "import", str(box.contacts_csv)],
    ]
    for n, step in enumerate(steps):
        timed([str(MAILSERVICE), *step], folder / f"prepare-{n}.log", env, folder)
    return env


def _check(url: str, box: Mailbox) -> dict[str, int]:
    """What the database holds after the runs; raises when mail is missing."""
    engine = sa.create_engine(url)
    queries = {
        "locations": "SELECT count(*) FROM message_locations WHERE deleted_at IS NULL",
        "messages": "SELECT count(*) FROM messages",
        "threaded": "SELECT count(*) FROM messages WHERE thread_id IS NOT NULL",
        "threads": "SELECT count(DISTINCT thread_id) FROM messages",
        "linked": "SELECT count(DISTINCT message_id) FROM message_contacts",
        "extracted": "SELECT count(*) FROM messages WHERE parse_status <> 'headers'",
    }
    with engine.connect() as connection:
        check = {k: connection.execute(sa.text(q)).scalar() for k, q in queries.items()}
    engine.dispose()
    if check["locations"] != box.messages or check["threaded"] != check["messages"]:
        raise BenchError(f"our sync left the mailbox incomplete: {check}")
    return check


def _database(kind: str, folder: Path):
    if kind == "sqlite":
        return f"sqlite:///{folder / 'data' / 'mailservice.db'}", lambda: None
    name = f"bench_sync_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name).render_as_string(False)

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(
                sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


# -- peers ----------------------------------------------------------------------

def mbsync(server: MailServer, user: MailUser, box: Mailbox,
           workdir: Path) -> tuple[Measured, Measured]:
    """mbsync pulling the mailbox into an empty local Maildir, then once more."""
    folder = workdir / f"mbsync-{uuid.uuid4().hex[:6]}"
    near = folder / "mail"
    # isync 1.4 does not create the Maildir root itself.
    near.mkdir(parents=True)
    config = folder / "mbsyncrc"
    config.write_text(_mbsync_config(server.port, user, near))
    argv = ["mbsync", "-q", "-c", str(config), "-a"]
    try:
        full = timed(argv, folder / "full.log")
        copied = sum(1 for p in near.rglob("*") if p.parent.name in ("cur", "new"))
        if copied != box.messages:
            raise BenchError(f"mbsync wrote {copied} of {box.messages} messages")
        time.sleep(MBSYNC_SETTLE_SECONDS)
        resync = timed(argv, folder / "resync.log")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return full, resync


def _mbsync_config(port: int, user: MailUser, near: Path) -> str:
    # isync 1.4 spells it SSLType (1.5: TLSType). FSync no: the data are as safe
    # as a Maildir written with plain writes, and nothing here syncs per message.
    return f"""FSync no

IMAPAccount bench
Host {HOST}
Port {port}
User {user.name}
Pass {user.password}
SSLType None

IMAPStore far
Account bench

MaildirStore near
Path {near}/
Inbox {near}/INBOX
SubFolders Verbatim

Channel bench
Far :far:
Near :near:
Patterns *
Create Near
Sync Pull
SyncState *
"""


def raw_floor(server: MailServer, user: MailUser, box: Mailbox,
              workdir: Path) -> Measured:
    """One imaplib connection fetching every message's BODY.PEEK[] and discarding it."""
    env = {**os.environ, "BENCH_IMAP_PASSWORD": user.password}
    argv = [sys.executable, "-m", "benchmarks._sync_floor", str(server.port), user.name]
    run = timed(argv, workdir / "floor.log", env, REPO)
    got = json.loads(run.output.strip().splitlines()[-1])
    if got["messages"] != box.messages:
        raise BenchError(f"the raw floor read {got['messages']} of {box.messages}")
    return run

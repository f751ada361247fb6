"""The demo's IMAP server: pymap on loopback, its mailbox loaded with sample mail.

pymap (from PyPI, no system package) serves a Maildir under the data folder, so
the mailbox, its UIDVALIDITY and its UIDs survive between runs: a second demo
run syncs the same mailbox and finds nothing new. What pymap 0.36 offers, seen
after LOGIN: IMAP4rev1 LITERAL+ ID BINARY UIDPLUS MOVE CHILDREN IDLE OBJECTID
MULTIAPPEND. No CONDSTORE, QRESYNC or SPECIAL-USE (RFC 6154): the sync takes its
fallback path, and the Sent folder is known by its name only. pymap keeps and
serves messages with bare LF line ends (Python's mailbox module), so the raw
bytes synced differ from the .eml samples in line ends only.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from imapclient import IMAPClient
from pysasl.hashing import BuiltinHash

from mailservice.demo.ports import HOST, free_port
from mailservice.demo.samples import sample_copies, sample_folders
from mailservice.errors import DemoError

log = logging.getLogger(__name__)

USER = "biuro@hurtownia.example"
# A published password for a server that only listens on loopback.
PASSWORD = "demo-haslo"
START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
MAILDIR = "mail"
SEEDED_MARK = "seeded"
# pymap runs as a child process; pymap.main has no __main__ module to run with -m.
PYMAP_MAIN = "from pymap.main import main; main()"


class DemoImapServer:
    """pymap serving the demo mailbox from `root`; a context manager."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.host = HOST
        self.port = port or free_port()
        self.user = USER
        self.password = PASSWORD
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> DemoImapServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        """Start pymap and load the sample mail on the first run."""
        seeded = self.root / SEEDED_MARK
        if not seeded.exists():
            # A run that stopped while loading left a half-filled mailbox behind.
            shutil.rmtree(self.root / MAILDIR, ignore_errors=True)
        self._write_user()
        self._spawn()
        if not seeded.exists():
            try:
                self._load_samples()
            except BaseException:
                self.stop()
                raise
            seeded.touch()
        log.info("demo IMAP server ready on %s:%d user=%s", HOST, self.port, USER)

    def stop(self) -> None:
        """Stop pymap; the mailbox stays on disk for the next run."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.info("demo IMAP server stopped port=%d", self.port)

    def connect(self) -> IMAPClient:
        """A client logged in to the demo mailbox."""
        client = IMAPClient(HOST, port=self.port, ssl=False, timeout=30)
        # imapclient switches imaplib's debug output on; it costs time per response.
        client._imap.debug = 0
        client.login(USER, PASSWORD)
        return client

    @property
    def log_path(self) -> Path:
        return self.root / "pymap.log"

    def _write_user(self) -> None:
        # pymap's Maildir backend reads passwd(5)- and shadow(5)-like files.
        self.root.mkdir(parents=True, exist_ok=True)
        # Few rounds: the password is published, and every login pays for them.
        hashed = BuiltinHash(rounds=1000).hash(PASSWORD)
        (self.root / "pymap-etc-passwd").write_text(f"{USER}:x::::{MAILDIR}:\n")
        (self.root / "pymap-etc-shadow").write_text(f"{USER}:{hashed}:::::::\n")

    def _spawn(self) -> None:
        command = [
            sys.executable, "-c", PYMAP_MAIN,
            "--host", HOST, "--port", str(self.port), "--no-tls",
            "maildir", str(self.root.resolve()),
        ]
        with self.log_path.open("ab") as log_file:
            # A session of its own: Ctrl-C reaches us, and we stop pymap in order.
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                start_new_session=True,
            )
        try:
            self._wait_for_greeting()
        except DemoError:
            self.stop()
            raise

    def _wait_for_greeting(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise DemoError(
                    f"the demo IMAP server (pymap) exited at start with status "
                    f"{self._process.returncode}; is port {self.port} taken? "
                    f"See {self.log_path}"
                )
            if _greets(self.port):
                return
            time.sleep(0.05)
        raise DemoError(
            f"the demo IMAP server did not answer on {HOST}:{self.port} within "
            f"{START_TIMEOUT:.0f} s; see {self.log_path}"
        )

    def _load_samples(self) -> None:
        copies = sample_copies()
        client = self.connect()
        try:
            for folder in sample_folders():
                if not client.folder_exists(folder):
                    client.create_folder(folder)
                # One MULTIAPPEND (RFC 3502) per folder: one round trip, not 32.
                batch = [
                    {"msg": copy.raw(), "flags": copy.flags, "date": copy.date()}
                    for copy in copies
                    if copy.folder == folder
                ]
                client.multiappend(folder, batch)
        finally:
            client.logout()
        log.info("demo mailbox loaded: %d messages", len(copies))


def _greets(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as connection:
            return connection.recv(64).startswith(b"* OK")
    except OSError:
        return False

"""A real Dovecot IMAP server for tests and benchmarks, started from a temp folder.

`DovecotServer` writes a config from config/dovecot/test-server.conf.template, runs
`dovecot -c` as root (the master drops to the `mail`, `dovecot` and `dovenull` users),
and stops it again. Usable outside pytest:

    with DovecotServer() as server:
        user = server.add_user()
        server.append(user, "INBOX", raw_bytes)

Everything lives under one folder in /tmp, never in the repository. Pytest's own temp
folders are mode 0700 and so closed to Dovecot's unprivileged users.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import ssl
import string
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from imapclient import IMAPClient
from imapclient.imap_utf7 import encode as utf7_encode

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "config" / "dovecot" / "test-server.conf.template"
HOST = "127.0.0.1"
# What Dovecot 2.3 advertises by default, less CONDSTORE, QRESYNC and ESEARCH: a
# server like many older or hosted ones, for the fallback path of the sync.
PLAIN_CAPABILITIES = (
    "IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT UIDPLUS MOVE "
    "SPECIAL-USE"
)
START_TIMEOUT = 15.0
DEFAULT_PASSWORD = "test-pass"
# Users written before the server starts, so that handing one out needs no wait.
POOL_SIZE = 300


class DovecotError(RuntimeError):
    """Raised when the test server cannot be started or used."""


@dataclass(frozen=True)
class MailUser:
    """A mailbox user of the test server."""

    name: str
    password: str


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class DovecotServer:
    """One Dovecot instance on loopback: start, add users, deliver mail, stop."""

    def __init__(self, condstore: bool = True, tls: bool = False) -> None:
        self.condstore = condstore
        self.tls = tls
        self.root = Path(tempfile.mkdtemp(prefix="ms-dovecot-"))
        self.port = free_port()
        self.ssl_port = free_port() if tls else 0
        self._mail_uid = pwd.getpwnam("mail").pw_uid
        self._mail_gid = pwd.getpwnam("mail").pw_gid
        self._pool = [
            MailUser(f"pool{n:03d}x{uuid.uuid4().hex[:6]}", DEFAULT_PASSWORD)
            for n in range(POOL_SIZE)
        ]

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    @property
    def instance_name(self) -> str:
        """Dovecot's name for this instance: the prefix of its process titles."""
        return f"dovecot-ms-test-{self.port}"

    @property
    def config_path(self) -> Path:
        return self.root / "dovecot.conf"

    @property
    def cert_path(self) -> Path:
        """The self-signed certificate the TLS listeners present (tls=True only)."""
        return self.root / "tls" / "cert.pem"

    def start(self) -> None:
        """Write the config and run Dovecot; returns once it accepts connections."""
        self._prepare_folders()
        if self.tls:
            self._make_certificate()
        self.config_path.write_text(self._render_config())

        # The daemon inherits our stdout and stderr: hand it files, not pipes, or
        # reading its output would wait for the server to exit.
        errors = self.root / "start.err"
        with errors.open("wb") as sink:
            result = subprocess.run(
                ["dovecot", "-c", str(self.config_path)],
                stdin=subprocess.DEVNULL, stdout=sink, stderr=sink,
            )
        if result.returncode != 0:
            raise DovecotError(f"dovecot did not start: {errors.read_text().strip()}")
        self._wait_until_ready()

    def stop(self) -> None:
        """Stop the master (and with it every child), then remove the temp folder."""
        pid = self._master_pid()
        if pid is not None:
            _kill_and_wait(pid)
        shutil.rmtree(self.root, ignore_errors=True)

    def _prepare_folders(self) -> None:
        # Dovecot's users must pass through the root folder (mkdtemp makes it 0700).
        self.root.chmod(0o755)
        for name in ("run", "state", "auth"):
            (self.root / name).mkdir(exist_ok=True)
        mail = self.root / "mail"
        mail.mkdir(exist_ok=True)
        os.chown(mail, self._mail_uid, self._mail_gid)
        passwd = self.root / "auth" / "passwd"
        passwd.touch()
        passwd.chmod(0o644)
        self._write_users(self._pool)

    def _make_certificate(self) -> None:
        folder = self.root / "tls"
        folder.mkdir(exist_ok=True)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}",
             "-keyout", str(folder / "key.pem"), "-out", str(self.cert_path)],
            check=True, capture_output=True,
        )

    def _render_config(self) -> str:
        if self.tls:
            ssl_settings = (
                f"ssl = yes\nssl_cert = <{self.cert_path}\n"
                f"ssl_key = <{self.root / 'tls' / 'key.pem'}"
            )
        else:
            ssl_settings = "ssl = no"
        capability = "" if self.condstore else f"imap_capability = {PLAIN_CAPABILITIES}"
        return string.Template(TEMPLATE.read_text()).substitute(
            root=self.root, port=self.port, ssl_port=self.ssl_port,
            ssl_settings=ssl_settings, capability_line=capability,
        )

    def _wait_until_ready(self) -> None:
        def ready() -> bool:
            return self._master_pid() is not None and _port_open(self.port)

        if wait_until(ready, START_TIMEOUT):
            return
        log = self.root / "dovecot.log"
        tail = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise DovecotError(f"dovecot did not listen on {self.port} in time:\n{tail}")

    def _master_pid(self) -> int | None:
        try:
            return int((self.root / "run" / "master.pid").read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    # -- users and mail ---------------------------------------------------------

    def add_user(
        self, name: str | None = None, password: str | None = None
    ) -> MailUser:
        """A new mailbox user: one of the pool written before start, or a new line.

        Dovecot re-reads the passwd-file at most once a second, so a line added
        now may be unknown for up to a second: such users are waited for.
        """
        if name is None and password is None and self._pool:
            return self._pool.pop(0)
        name = name or f"u{uuid.uuid4().hex[:10]}"
        user = MailUser(name, password or DEFAULT_PASSWORD)
        self._write_users([user])
        self._wait_for_login(user)
        return user

    def _write_users(self, users: list[MailUser]) -> None:
        with (self.root / "auth" / "passwd").open("a", encoding="utf-8") as handle:
            for user in users:
                handle.write(f"{user.name}:{{PLAIN}}{user.password}::::::\n")

    def _wait_for_login(self, user: MailUser) -> None:
        def logs_in() -> bool:
            try:
                self.client(user).logout()
                return True
            except IMAPClient.Error:
                return False

        if not wait_until(logs_in, 5):
            raise DovecotError(f"user {user.name} cannot log in after 5 s")

    def client(self, user: MailUser) -> IMAPClient:
        """An IMAPClient logged in as `user` (for arranging a test's mailbox)."""
        client = IMAPClient(HOST, self.port, ssl=False, timeout=30)
        client._imap.debug = 0
        if user.password.isascii():
            client.login(user.name, user.password)
        else:
            client.plain_login(user.name, user.password)  # LOGIN is ASCII-only
        return client

    def create_folder(self, user: MailUser, folder: str) -> None:
        """Create a folder (a Unicode name, encoded to modified UTF-7 on the wire)."""
        with self.client(user) as client:
            client.create_folder(folder)

    def append(
        self, user: MailUser, folder: str, raw: bytes, flags: tuple[bytes, ...] = ()
    ) -> int:
        """Deliver one message by IMAP APPEND, creating the folder; its new UID."""
        with self.client(user) as client:
            return self._append_with(client, folder, raw, flags)

    def append_many(self, user: MailUser, folder: str, raws) -> list[int]:
        """Deliver messages one by one over one connection; their UIDs."""
        with self.client(user) as client:
            return [self._append_with(client, folder, raw, ()) for raw in raws]

    @staticmethod
    def _append_with(client: IMAPClient, folder: str, raw: bytes, flags) -> int:
        if not client.folder_exists(folder):
            client.create_folder(folder)
        response = client.append(folder, raw, flags=flags)
        # UIDPLUS (RFC 4315): "[APPENDUID <uidvalidity> <uid>] Append completed."
        return int(response.split(b"]")[0].split()[-1])

    def write_maildir(self, user: MailUser, folder: str, raws) -> int:
        """Bulk load: write messages straight into the user's Maildir; how many."""
        target = self.maildir_path(user, folder)
        for sub in ("cur", "new", "tmp"):
            (target / sub).mkdir(parents=True, exist_ok=True)
        count = 0
        stamp = int(time.time())
        for count, raw in enumerate(raws, start=1):
            name = f"{stamp}.M{count}P{os.getpid()}.mstest,S={len(raw)}:2,"
            (target / "cur" / name).write_bytes(raw)
        self._chown_tree(self.root / "mail" / user.name)
        return count

    def maildir_path(self, user: MailUser, folder: str) -> Path:
        """Where a folder of `user` lives on disk (Maildir++ layout)."""
        base = self.root / "mail" / user.name / "Maildir"
        if folder.upper() == "INBOX":
            return base
        wire = utf7_encode(folder).decode("ascii")
        return base / ("." + wire.replace("/", "."))

    def _chown_tree(self, top: Path) -> None:
        for folder, dirs, files in os.walk(top):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(name, self._mail_uid, self._mail_gid)

    # -- faults -----------------------------------------------------------------

    def kill_sessions(self, user: MailUser) -> int:
        """Kill the IMAP processes serving `user`, as a crash or a network cut would."""
        killed = 0
        title = f"{self.instance_name}/imap [{user.name} "
        for pid in _pids_with_title(title):
            os.kill(pid, signal.SIGKILL)
            killed += 1
        return killed

    def tls_context(self) -> ssl.SSLContext:
        """A client context that trusts this server's self-signed certificate."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _kill_and_wait(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    if not wait_until(lambda: not _alive(pid), 10):
        os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_until(condition, seconds: float, step: float = 0.05) -> bool:
    """Check `condition()` until it holds (True) or `seconds` pass (False)."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while not condition():
        if time.monotonic() > deadline:
            return False
        pause.wait(step)
    return True


def _pids_with_title(prefix: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if title.startswith(prefix):
            pids.append(int(entry.name))
    return pids


# -- pytest fixtures (import them into a test module to use them) ---------------

@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """Dovecot with CONDSTORE and QRESYNC, shared by the session's tests."""
    with DovecotServer() as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_plain() -> Iterator[DovecotServer]:
    """Dovecot advertising neither CONDSTORE nor QRESYNC nor ESEARCH."""
    with DovecotServer(condstore=False) as server:
        yield server


@pytest.fixture(scope="session")
def dovecot_tls() -> Iterator[DovecotServer]:
    """Dovecot with STARTTLS on `port` and implicit TLS on `ssl_port`."""
    with DovecotServer(tls=True) as server:
        yield server


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.servers.dovecot [--plain] [--tls]`: serve until interrupted.

    Prints one JSON line (host, port, ssl_port, user, password, root) for a
    benchmark or a person to connect with, then waits for SIGINT or SIGTERM.
    """
    import argparse
    import json

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--plain", action="store_true", help="no CONDSTORE/QRESYNC")
    parser.add_argument("--tls", action="store_true", help="STARTTLS and imaps too")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with DovecotServer(condstore=not args.plain, tls=args.tls) as server:
        user = server.add_user()
        print(json.dumps({
            "host": HOST, "port": server.port, "ssl_port": server.ssl_port,
            "user": user.name, "password": user.password, "root": str(server.root),
        }), flush=True)
        stop.wait()


if __name__ == "__main__":
    main()

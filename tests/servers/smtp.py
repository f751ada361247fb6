"""A real SMTP server on loopback (aiosmtpd) that records what it receives and can
be told to misbehave: answer 421, 451 or 550, drop the connection during DATA,
refuse some recipients, or be slow.

    with SmtpSink() as sink:
        sink.fail_next("451", times=2)
        ... send to sink.port ...
        sink.message_ids()  # every Message-ID received, in order

`python -m tests.servers.smtp --port N --count-file F` runs a counting-only sink
in its own process (benchmarks: aiosmtpd needs a whole core).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import re
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

HOST = "127.0.0.1"
SERVER_NAME = "sink.localhost"  # explicit, or every banner pays a DNS lookup
_MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([^>]+)>", re.I | re.M)

REPLIES = {
    "421": "421 4.3.2 Service shutting down, try again later",
    "451": "451 4.3.0 Temporary local problem, try again later",
    "550": "550 5.7.1 Message rejected: content looks like spam",
}


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    """One message the sink accepted (answered 250)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message_id(self) -> str | None:
        """The Message-ID header of the message, without brackets."""
        match = _MESSAGE_ID.search(self.data.split(b"\r\n\r\n", 1)[0])
        return match.group(1).decode() if match else None


@dataclass
class SinkHandler:
    """The aiosmtpd handler: records, counts, and injects the faults asked for."""

    record: bool = True
    received: list[Received] = field(default_factory=list)
    count: int = 0
    faults: list[str] = field(default_factory=list)  # consumed one per DATA
    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> reply
    delay_seconds: float = 0.0
    provider_id_domain: str | None = None  # rewrite: answer 250 with our own id
    oauth_tokens: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse_rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            fault = self.faults.pop(0) if self.faults else None
        if fault == "drop":
            # The client sent its data but gets no reply: not delivered.
            server.transport.close()
            return "451 dropped"
        if fault in REPLIES:
            return REPLIES[fault]
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        return self._accept(envelope)

    def _accept(self, envelope) -> str:
        with self.lock:
            self.count += 1
            number = self.count
            if self.record:
                self.received.append(
                    Received(
                        envelope.mail_from, list(envelope.rcpt_tos), envelope.content
                    )
                )
        if self.provider_id_domain:
            return f"250 2.0.0 OK <provider.{number}@{self.provider_id_domain}>"
        return "250 2.0.0 OK queued"

    async def auth_XOAUTH2(self, server, args):
        # XOAUTH2: one base64 string "user=...\x01auth=Bearer TOKEN\x01\x01".
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        decoded = base64.b64decode(args[1]).decode()
        token = decoded.split("auth=Bearer ", 1)[-1].split("\x01", 1)[0]
        return AuthResult(success=token in self.oauth_tokens, handled=False)


class _Authenticator:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if mechanism not in ("LOGIN", "PLAIN"):
            return AuthResult(success=False, handled=False)
        user = auth_data.login.decode()
        ok = self.users.get(user) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)


class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 with a SinkHandler; a context manager."""

    def __init__(
        self,
        port: int | None = None,
        record: bool = True,
        users: dict[str, str] | None = None,
    ) -> None:
        self.port = port or free_port()
        self.handler = SinkHandler(record=record)
        self.users = users
        extra = {}
        if users is not None:
            extra = dict(
                authenticator=_Authenticator(users),
                auth_require_tls=False,
                auth_required=True,
            )
        self.controller = Controller(
            self.handler,
            hostname=HOST,
            port=self.port,
            server_hostname=SERVER_NAME,
            ready_timeout=10,
            **extra,
        )

    def start(self) -> SmtpSink:
        """Start serving."""
        self.controller.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def fail_next(self, fault: str, times: int = 1) -> None:
        """Answer the next `times` DATA with a fault: 421, 451, 550 or drop."""
        with self.handler.lock:
            self.handler.faults.extend([fault] * times)

    def refuse(self, address: str, reply: str) -> None:
        """Answer RCPT TO this address with `reply` (e.g. '550 5.1.1 no such user')."""
        self.handler.refuse_rcpt[address.lower()] = reply

    def slow(self, seconds: float) -> None:
        """Wait this long before answering every DATA."""
        self.handler.delay_seconds = seconds

    @property
    def received(self) -> list[Received]:
        """Every accepted message, in order."""
        with self.handler.lock:
            return list(self.handler.received)

    def message_ids(self) -> list[str | None]:
        """The Message-IDs of the accepted messages, in order."""
        return [message.message_id for message in self.received]

    def duplicates(self) -> dict[str, int]:
        """Message-IDs accepted more than once, with their count."""
        return {mid: n for mid, n in Counter(self.message_ids()).items() if n > 1}

    def wait_for(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until at least `count` messages were accepted."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.handler.count >= count:
                return True
            time.sleep(0.02)
        return self.handler.count >= count


@pytest.fixture
def smtp_sink():
    """A recording SMTP sink on loopback, stopped after the test."""
    with SmtpSink() as sink:
        yield sink


def _serve_counting(port: int, count_file: Path) -> None:
    sink = SmtpSink(port=port, record=False).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(0.05):
            count_file.write_text(str(sink.handler.count))
    finally:
        count_file.write_text(str(sink.handler.count))
        sink.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="a counting aiosmtpd sink")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count-file", type=Path, required=True)
    arguments = parser.parse_args()
    _serve_counting(arguments.port, arguments.count_file)

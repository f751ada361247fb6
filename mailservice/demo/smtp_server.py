"""The demo's SMTP server: aiosmtpd on loopback, delivering into the demo mailbox.

Mail for the demo account's address is appended to its IMAP INBOX, where the
next sync finds it. Mail for anyone else is accepted and kept in `received`
only: nothing ever leaves the machine. AUTH PLAIN/LOGIN with the demo login is
offered without TLS (loopback only) and not required.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from mailservice.demo.imap_server import PASSWORD, USER, DemoImapServer
from mailservice.demo.ports import HOST, free_port
from mailservice.errors import DemoError

log = logging.getLogger(__name__)

# An explicit name: the default asks DNS for this machine's name on every start.
SERVER_NAME = "smtp.hurtownia.example"


@dataclass(frozen=True)
class ReceivedMail:
    """One message the server accepted: its envelope and its bytes as sent."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    delivered: bool


@dataclass
class DeliveryHandler:
    """aiosmtpd handler: delivers mail for the demo address to the IMAP INBOX."""

    imap: DemoImapServer
    received: list[ReceivedMail] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        """Take one message: into the INBOX when it is for the demo address."""
        delivered = any(rcpt.lower() == USER for rcpt in envelope.rcpt_tos)
        if delivered:
            stamped = _trace_headers(envelope.mail_from, USER, session)
            try:
                await asyncio.get_running_loop().run_in_executor(
                    None, self._append_to_inbox, stamped + envelope.content
                )
            except Exception as exc:  # noqa: BLE001 - every IMAP failure is retryable
                log.warning("demo delivery to INBOX failed: %s", exc)
                return "451 4.3.0 Delivery to the demo mailbox failed; try again"

        rcpts = tuple(envelope.rcpt_tos)
        self.received.append(
            ReceivedMail(envelope.mail_from, rcpts, envelope.content, delivered)
        )
        log.info("demo SMTP accepted mail rcpts=%d delivered=%s", len(rcpts), delivered)
        return "250 2.0.0 Message accepted"

    def _append_to_inbox(self, data: bytes) -> None:
        client = self.imap.connect()
        try:
            client.append("INBOX", data)
        finally:
            client.logout()


def _trace_headers(mail_from: str, rcpt: str, session) -> bytes:
    # What a delivering MTA adds on top: Return-Path (RFC 5321 4.4) and Received.
    stamp = format_datetime(datetime.now(timezone.utc))
    peer = session.peer[0] if session.peer else HOST
    return (
        f"Return-Path: <{mail_from}>\r\n"
        f"Received: from {session.host_name or 'unknown'} ([{peer}])\r\n"
        f"\tby {SERVER_NAME} (mailservice demo) for <{rcpt}>; {stamp}\r\n"
    ).encode("ascii", "replace")


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (
        auth_data.login.decode("utf-8", "replace").lower() == USER
        and auth_data.password.decode("utf-8", "replace") == PASSWORD
    )
    # handled=False: aiosmtpd itself answers 535 to a refused login.
    return AuthResult(success=ok, handled=False)


class DemoSmtpServer:
    """aiosmtpd on loopback delivering into `imap`; a context manager."""

    def __init__(self, imap: DemoImapServer, port: int | None = None) -> None:
        self.host = HOST
        self.port = port or free_port()
        self.handler = DeliveryHandler(imap)
        self._controller = Controller(
            self.handler,
            hostname=HOST,
            port=self.port,
            server_hostname=SERVER_NAME,
            authenticator=_authenticate,
            auth_require_tls=False,
            auth_required=False,
            # Keep the message as it came: no "X-Peer" and no other rewriting.
            decode_data=False,
        )

    @property
    def received(self) -> list[ReceivedMail]:
        return self.handler.received

    def __enter__(self) -> DemoSmtpServer:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        """Listen on loopback."""
        try:
            self._controller.start()
        except (OSError, RuntimeError) as exc:
            raise DemoError(
                f"the demo SMTP server cannot listen on {HOST}:{self.port}: {exc}"
            ) from exc
        log.info("demo SMTP server ready on %s:%d", HOST, self.port)

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop(no_assert=True)
        log.info("demo SMTP server stopped port=%d", self.port)

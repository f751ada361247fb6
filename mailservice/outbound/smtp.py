"""One SMTP connection per batch: open it (SSL or STARTTLS, password or XOAUTH2),
send messages one transaction at a time, and say how each went.

Replies are sorted as RFC 5321 4.2.1 does: 2yz done, 4yz try again later, 5yz
never. A dropped connection or a timeout is temporary; 421 means the server is
closing the link (RFC 5321 3.8), so the next message needs a new connection.
"""

from __future__ import annotations

import base64
import logging
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass, field

from mailservice.accounts.models import Account
from mailservice.accounts.secrets import decrypt_secret
from mailservice.config import Settings
from mailservice.errors import SmtpPermanentError, SmtpTemporaryError

log = logging.getLogger(__name__)

_ANGLE_ID = re.compile(r"<([^<>@\s]+@[^<>\s]+)>")
CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, OSError, socket.timeout)


@dataclass
class Outcome:
    """How one message went: accepted and refused recipients, the DATA reply."""

    accepted: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)  # 5xx: never
    deferred: dict[str, str] = field(default_factory=dict)  # 4xx: later
    data_reply: str | None = None
    provider_id: str | None = None  # a Message-ID the server says it gave


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(text.split())}"


class SmtpConnection:
    """A logged-in connection to an account's SMTP server."""

    def __init__(self, account: Account, settings: Settings) -> None:
        self.account = account
        self.settings = settings
        self.client: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect, secure and log in; SmtpTemporaryError or SmtpPermanentError."""
        try:
            self.client = self._connect()
            self._login()
        except smtplib.SMTPAuthenticationError as exc:
            self.close()
            raise SmtpPermanentError(
                f"the SMTP server of {self.account.name!r} refused the login: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}"
            ) from exc
        except smtplib.SMTPResponseException as exc:
            self.close()
            error = SmtpPermanentError if exc.smtp_code >= 500 else SmtpTemporaryError
            raise error(f"SMTP {_reply(exc.smtp_code, exc.smtp_error)}") from exc
        except (*CONNECTION_ERRORS, smtplib.SMTPException) as exc:
            self.close()
            raise SmtpTemporaryError(
                f"cannot reach SMTP {self.account.smtp_host}:{self.account.smtp_port}: "
                f"{exc}"
            ) from exc
        log.debug("smtp connected account=%s", self.account.name)

    def _connect(self) -> smtplib.SMTP:
        account, settings = self.account, self.settings
        security = account.smtp_security or "starttls"
        port = account.smtp_port or (465 if security == "ssl" else 587)
        args = dict(
            local_hostname=settings.smtp_local_hostname,
            timeout=settings.smtp_timeout_seconds,
        )
        if security == "ssl":
            client = smtplib.SMTP_SSL(
                account.smtp_host, port, context=ssl.create_default_context(), **args
            )
        else:
            client = smtplib.SMTP(account.smtp_host, port, **args)
        client.ehlo()
        if security == "starttls":
            client.starttls(context=ssl.create_default_context())
            client.ehlo()  # RFC 3207 4.2: forget what was said before TLS
        return client

    def _login(self) -> None:
        account = self.account
        if not self.client.has_extn("auth"):
            return  # a relay that takes mail without login (loopback, tests)
        secret = decrypt_secret(self.settings, account.secret_encrypted, account.name)
        if account.auth_method == "xoauth2":
            # XOAUTH2 (Google, Microsoft): user and bearer token in one SASL string.
            token = f"user={account.username}\x01auth=Bearer {secret}\x01\x01"
            code, text = self.client.docmd(
                "AUTH", "XOAUTH2 " + base64.b64encode(token.encode()).decode()
            )
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, text)
        else:
            self.client.login(account.username, secret)

    def send(self, sender: str, recipients: list[str], raw: bytes) -> Outcome:
        """One SMTP transaction; raises SmtpTemporaryError/SmtpPermanentError for
        the whole message, else says per recipient what happened."""
        client = self.client
        outcome = Outcome()
        try:
            self._mail(sender)
            for address in recipients:
                code, text = client.rcpt(address)
                reply = _reply(code, text)
                if code in (250, 251):
                    outcome.accepted[address] = reply
                elif code == 421:
                    raise SmtpTemporaryError(f"SMTP {reply}")
                elif code >= 500:
                    outcome.refused[address] = reply
                else:
                    outcome.deferred[address] = reply
            if not outcome.accepted:
                client.rset()
                return outcome
            self._data(raw, outcome)
        except smtplib.SMTPResponseException as exc:
            # smtplib raises this when DATA itself is not answered with 354.
            self._refuse(exc.smtp_code, exc.smtp_error, "message")
        except CONNECTION_ERRORS as exc:
            self.close()
            raise SmtpTemporaryError(f"the SMTP connection was lost: {exc}") from exc
        return outcome

    def _mail(self, sender: str) -> None:
        code, text = self.client.mail(sender)
        if code != 250:
            self._refuse(code, text, "sender")

    def _data(self, raw: bytes, outcome: Outcome) -> None:
        code, text = self.client.data(raw)
        reply = _reply(code, text)
        if code != 250:
            self._refuse(code, text, "message")
        outcome.data_reply = reply
        match = _ANGLE_ID.search(reply)
        outcome.provider_id = match.group(1) if match else None

    def _refuse(self, code: int, text: bytes, what: str) -> None:
        reply = _reply(code, text)
        if code != 421:
            try:
                self.client.rset()
            except CONNECTION_ERRORS:
                self.close()
        else:
            self.close()
        if code >= 500:
            raise SmtpPermanentError(f"the server refused the {what}: {reply}")
        raise SmtpTemporaryError(f"the server deferred the {what}: {reply}")

    @property
    def is_open(self) -> bool:
        """Whether the connection can take another message."""
        return self.client is not None

    def close(self) -> None:
        """QUIT if possible; a dead link is simply dropped."""
        if self.client is None:
            return
        try:
            self.client.quit()
        except (*CONNECTION_ERRORS, smtplib.SMTPException):
            self.client.close()
        self.client = None

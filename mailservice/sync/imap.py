"""The IMAP seam: one function opens a logged-in connection for an account.

Everything else in the sync talks to the IMAPClient this returns, so a test can
hand in a connection to a real test server and nothing else needs to know.
Errors leave this module as the domain's ImapLoginError / ImapConnectionError,
each naming the account.
"""

from __future__ import annotations

import errno
import imaplib
import logging
import socket
import ssl
from contextlib import contextmanager
from typing import Iterator

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from mailservice.accounts.models import Account
from mailservice.accounts.secrets import decrypt_secret
from mailservice.config import Settings
from mailservice.errors import ImapConnectionError, ImapLoginError

log = logging.getLogger(__name__)

# What a dropped or unreachable server raises: sockets, TLS, and imaplib's "abort"
# (the connection is unusable), plus its plain error for a garbled response.
CONNECTION_ERRORS = (
    ConnectionError, socket.gaierror, ssl.SSLError, imaplib.IMAP4.error
)
# OSErrors that are the network's, not the disk's (a full raw store is no
# connection problem and must not be reported as one).
NETWORK_ERRNOS = {
    errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN,
    errno.ETIMEDOUT, errno.ECONNREFUSED, errno.ECONNRESET, errno.EPIPE,
}


def connect(
    account: Account, settings: Settings, ssl_context: ssl.SSLContext | None = None
) -> IMAPClient:
    """A connection to the account's server, TLS as configured, logged in.

    Folder names go to and come from it as wire names (modified UTF-7, unchanged).
    """
    secret = decrypt_secret(settings, account.secret_encrypted, account.name)
    with imap_errors(account.name):
        client = _open(account, settings, ssl_context)
    try:
        _login(client, account, secret)
    except BaseException:
        _close_quietly(client)
        raise
    log.info("imap connected account=%s host=%s", account.name, account.imap_host)
    return client


def _open(
    account: Account, settings: Settings, ssl_context: ssl.SSLContext | None
) -> IMAPClient:
    client = IMAPClient(
        account.imap_host,
        port=account.imap_port,
        ssl=account.imap_security == "ssl",
        ssl_context=ssl_context,
        timeout=settings.imap_timeout_seconds,
    )
    # imapclient switches imaplib's debug output on, which formats every response,
    # bodies included, even with logging off: five times slower (measurements.md).
    client._imap.debug = 0
    # Folders are named by their wire names (Folder.wire_name) everywhere.
    client.folder_encode = False
    if account.imap_security == "starttls":
        client.starttls(ssl_context)
    return client


def _login(client: IMAPClient, account: Account, secret: str) -> None:
    try:
        with imap_errors(account.name):
            if account.auth_method == "xoauth2":
                client.oauth2_login(account.username, secret)
            elif secret.isascii() and account.username.isascii():
                client.login(account.username, secret)
            else:
                # LOGIN is ASCII-only in imaplib; SASL PLAIN carries UTF-8 (RFC 4616).
                client.plain_login(account.username, secret)
    except LoginError as exc:
        raise ImapLoginError(
            f"account {account.name!r}: the IMAP server {account.imap_host} refused "
            f"the login of {account.username!r} ({_reason(exc)}); check the "
            "password or token"
        ) from exc


@contextmanager
def imap_errors(account_name: str) -> Iterator[None]:
    """Turn socket and protocol failures into an ImapConnectionError for the account."""
    try:
        yield
    except LoginError:
        raise
    except (socket.timeout, TimeoutError) as exc:
        raise ImapConnectionError(
            f"account {account_name!r}: the IMAP server did not answer in time"
        ) from exc
    except CONNECTION_ERRORS as exc:
        raise _dropped(account_name, exc) from exc
    except OSError as exc:
        if exc.errno not in NETWORK_ERRNOS:
            raise
        raise _dropped(account_name, exc) from exc


def _dropped(account_name: str, exc: BaseException) -> ImapConnectionError:
    return ImapConnectionError(
        f"account {account_name!r}: the IMAP connection failed or was dropped "
        f"({_reason(exc)}); the next sync resumes where this one stopped"
    )


def close(client: IMAPClient) -> None:
    """Log out, ignoring a connection that is already gone."""
    _close_quietly(client)


def _close_quietly(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - the connection may be dead already
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            log.debug("imap connection was already closed")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:200]

"""Reading a bounce: which recipients failed, softly or hard, and for which message.

A standard report (RFC 3464 message/delivery-status) says it per recipient with
Action and Status: class 5 is a hard bounce, class 4 or `delayed` a soft one
(RFC 3463 2). Everything else, the many non-standard bounces of Exim, qmail,
Exchange, Yahoo and others, goes to flufl.bounce, the detector library of GNU
Mailman, kept up to date by its maintainers.
"""

from __future__ import annotations

import base64
import email
import logging
import re
from dataclasses import dataclass, field
from email.message import Message as EmailMessage

from flufl.bounce import all_failures

log = logging.getLogger(__name__)

HARD, SOFT = "hard", "soft"
_STATUS = re.compile(r"([245])\.\d{1,3}\.\d{1,3}")
_MESSAGE_ID = re.compile(r"<([^<>\s]+@[^<>\s]+)>")
# The heuristic detectors also fire on ordinary mail, so they only look at
# messages that come from a mail system or say they report a failure.
_DAEMON = re.compile(r"mailer-daemon|postmaster|mail delivery|mail administrator", re.I)
_FAILURE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|has failed|notification)"
    r"|failure notice|returned mail|mail delivery failed|could not be delivered"
    r"|niedostarcz|nie (można|mo[zż]na) dostarczy|nie zosta[łl]a dostarczona"
    r"|unzustellbar|non remis",
    re.I,
)
# flufl.bounce logs every detector it runs at info and every detector that
# trips over odd input with a traceback; we catch those and log one line.
logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)


@dataclass
class Bounce:
    """The failed recipients of one bounce (address -> hard/soft) and why."""

    recipients: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    original_message_ids: list[str] = field(default_factory=list)
    standard: bool = False  # an RFC 3464 report


def read_bounce(raw: bytes) -> Bounce | None:
    """The bounce `raw` reports, or None when it is not a bounce."""
    message = email.message_from_bytes(raw)
    bounce = Bounce(original_message_ids=_original_ids(message))
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            _read_status(part, bounce)
    if bounce.recipients:
        bounce.standard = True
        return bounce
    return _heuristic(message, bounce)


def _read_status(part: EmailMessage, bounce: Bounce) -> None:
    blocks = part.get_payload()
    if not isinstance(blocks, list):
        return
    for block in _unwrapped(blocks):
        recipient = _address(
            block.get("Final-Recipient") or block.get("Original-Recipient")
        )
        action = (block.get("Action") or "").strip().lower()
        status = _STATUS.search(block.get("Status") or "")
        if not recipient or action in ("delivered", "relayed", "expanded"):
            continue
        if action not in ("failed", "delayed") and (
            not status or status.group(1) == "2"
        ):
            continue  # no Action: the Status class alone says it failed
        hard = action != "delayed" and (status is None or status.group(1) == "5")
        _add(
            bounce,
            recipient,
            HARD if hard else SOFT,
            " ".join(
                (block.get("Diagnostic-Code") or block.get("Status") or "").split()
            ),
        )


def _unwrapped(blocks: list[EmailMessage]) -> list[EmailMessage]:
    # Some MTAs base64-encode the per-recipient fields inside the report (a
    # Content-Transfer-Encoding field in the first block, seen from Postfix
    # behind a filter); read them as the fields they are.
    result, encoding = [], ""
    for block in blocks:
        encoding = (block.get("Content-Transfer-Encoding") or encoding).strip().lower()
        payload = block.get_payload()
        if encoding == "base64" and isinstance(payload, str) and payload.strip():
            try:
                text = base64.b64decode(payload).decode("utf-8", "replace")
            except ValueError:
                continue
            result += [
                email.message_from_string(chunk)
                for chunk in re.split(r"\r?\n\s*\r?\n", text)
                if chunk.strip()
            ]
        else:
            result.append(block)
    return result


def _looks_like_failure(message: EmailMessage) -> bool:
    sender = str(message.get("From", ""))
    subject = str(message.get("Subject", ""))
    return bool(
        _DAEMON.search(sender)
        or _FAILURE_SUBJECT.search(subject)
        or message.get_content_type() == "multipart/report"
        or str(message.get("Return-Path", "")).strip() == "<>"
    )


def _heuristic(message: EmailMessage, bounce: Bounce) -> Bounce | None:
    if not _looks_like_failure(message):
        return None
    try:
        temporary, permanent = all_failures(message)
    except Exception as exc:  # a detector choking on odd input: not a bounce to us
        log.warning("bounce detection failed: %s: %s", type(exc).__name__, exc)
        return None
    for address in permanent:
        _add(bounce, address.decode("utf-8", "replace"), HARD, "")
    for address in temporary:
        _add(bounce, address.decode("utf-8", "replace"), SOFT, "")
    return bounce if bounce.recipients else None


def _add(bounce: Bounce, address: str, kind: str, reason: str) -> None:
    address = address.strip().strip("<>").lower()
    if not address or "@" not in address:
        return
    if bounce.recipients.get(address) != HARD:  # hard wins over soft
        bounce.recipients[address] = kind
    if reason:
        bounce.reasons[address] = reason


def _address(field_value: str | None) -> str | None:
    # RFC 3464 2.3.2: "address-type ; generic-address", e.g. "rfc822; a@b".
    if not field_value:
        return None
    return field_value.split(";", 1)[-1].strip()


def _original_ids(message: EmailMessage) -> list[str]:
    """Message-IDs of the returned original (message/rfc822 or its headers)."""
    ids: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/rfc822":
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, EmailMessage):
                ids += _MESSAGE_ID.findall(str(inner.get("Message-ID", "")))
        elif kind == "text/rfc822-headers":
            headers = email.message_from_string(
                part.get_payload(decode=True).decode("utf-8", "replace")
            )
            ids += _MESSAGE_ID.findall(str(headers.get("Message-ID", "")))
    return list(dict.fromkeys(ids))

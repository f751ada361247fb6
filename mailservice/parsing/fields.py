"""Reading single header fields: message ids, dates, auto-reply marks, the MIME type."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_tz

MAX_ID_LENGTH = 998  # RFC 5322 2.1.1: no id of a real message is longer than a line
EARLIEST_PLAUSIBLE = datetime(1980, 1, 1, tzinfo=timezone.utc)
# A Date after the server received the message is clock skew at best; beyond this,
# it is a wrong clock or a spammer's trick to stay on top of the list.
FUTURE_TOLERANCE = timedelta(days=2)

_ANGLE_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
_SPACED_COLON = re.compile(r"\s*:\s*")

# RFC 3834 3.1.7: Auto-Submitted other than "no" marks an automatic message.
_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "auto-reply"}
_AUTO_SUBJECT = re.compile(
    r"\s*(?:auto(?:matic|matyczna)?[ -]?(?:reply|response|odpowied[źz])"
    r"|autoreply|out of (?:the )?office|odpowied[źz] automatyczna|nieobecno[śs][ćc]"
    r"|abwesenheit|automatische antwort|r[ée]ponse automatique)",
    re.IGNORECASE,
)


def strip_comments(value: str) -> str:
    """`value` without its RFC 5322 3.2.2 (comments), which may nest and escape."""
    if "(" not in value:
        return value
    out, depth, escaped = [], 0, False
    for char in value:
        if depth and escaped:
            escaped = False
        elif depth and char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif depth and char == ")":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)


def message_ids(value: str | None) -> list[str]:
    """The msg-ids in a Message-ID, In-Reply-To or References value, brackets off.

    Real headers fold ids across lines, forget the brackets or wrap them in
    comments; ids are kept in order, once each, without whitespace.
    """
    if not value:
        return []
    value = strip_comments(value)
    found = [_WHITESPACE.sub("", inner) for inner in _ANGLE_ID.findall(value)]
    if not found:
        tokens = [token.strip("<>,;") for token in value.split()]
        found = [t for t in tokens if "@" in t] or tokens[:1]
    seen: dict[str, None] = {}
    for msg_id in found:
        if msg_id and len(msg_id) <= MAX_ID_LENGTH:
            seen.setdefault(msg_id)
    return list(seen)


def parse_date(value: str | None) -> datetime | None:
    """A Date-like value as an aware UTC datetime, or None when it cannot be read."""
    if not value:
        return None
    try:
        # RFC 5322 4.3 (obsolete syntax) allows spaces around the time's colons.
        text = _SPACED_COLON.sub(":", strip_comments(value))
        parts = parsedate_tz(_WHITESPACE.sub(" ", text).strip())
        if parts is None:
            return _iso_date(text.strip())
        moment = datetime(*parts[:6], tzinfo=timezone.utc)
        # RFC 5322 4.3: an unknown zone means "local time somewhere": taken as UTC.
        return moment - timedelta(seconds=parts[9] or 0)
    except (ValueError, OverflowError, TypeError, IndexError):
        return None


def _iso_date(text: str) -> datetime | None:
    # Not RFC 5322, but some scripts and mailers write ISO 8601 dates.
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def implausible_date_reason(moment: datetime, received: datetime | None) -> str | None:
    """Why a parsed Date cannot be right, or None when it can."""
    if moment < EARLIEST_PLAUSIBLE:
        return f"Date {moment:%Y-%m-%d} is before 1980"
    latest = (received or datetime.now(timezone.utc)) + FUTURE_TOLERANCE
    if moment > latest:
        return f"Date {moment:%Y-%m-%d} is after the message arrived"
    return None


def received_date(value: str | None) -> datetime | None:
    """The timestamp after the last ';' of a Received header (RFC 5321 4.4)."""
    if not value or ";" not in value:
        return None
    return parse_date(value.rsplit(";", 1)[1])


def is_auto_reply(fields: dict[str, list[str]], subject: str | None) -> bool:
    """Whether headers or subject mark an automatic message (RFC 3834, DSNs, MDNs)."""
    auto_submitted = _first(fields, "auto-submitted")
    if auto_submitted and auto_submitted.split(";")[0].strip().lower() != "no":
        return True
    for name in ("x-autoreply", "x-autorespond"):
        flag = _first(fields, name)
        if flag is not None and flag.strip().lower() not in ("no", "false", "0"):
            return True
    if (_first(fields, "precedence") or "").strip().lower() in _AUTO_PRECEDENCE:
        return True
    # RFC 6522: delivery and read reports are multipart/report, written by machines.
    if mime_type(_first(fields, "content-type")) == "multipart/report":
        return True
    return bool(subject and _AUTO_SUBJECT.match(subject))


def mime_type(content_type: str | None) -> str:
    """The lowercased type/subtype of a Content-Type value; text/plain when absent."""
    if not content_type:
        return "text/plain"
    main = content_type.split(";", 1)[0].strip().strip('"').lower()
    return main if "/" in main else "text/plain"


def likely_has_attachments(fields: dict[str, list[str]]) -> bool:
    """A cheap guess from the top-level type; bodies extraction makes it exact."""
    top = mime_type(_first(fields, "content-type"))
    if top == "multipart/mixed":
        return True
    if top.startswith("multipart/"):
        return False
    disposition = (_first(fields, "content-disposition") or "").lower()
    return not top.startswith("text/") or disposition.startswith("attachment")


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None

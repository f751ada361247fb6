"""IMAP on the wire for the sync: UID sets, UID FETCH and UID SEARCH, parsed fast.

imapclient 4.1's own fetch() cannot take a range such as "1:*" and its response
parser, written for every shape of response, costs a quarter of a message's
sync. The two shapes the hot path reads - bodies as literals and the size/date/
flags line - are read here with a few regular expressions; anything else, or
anything they do not recognise, goes through imapclient's parser.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Iterable

from imapclient import IMAPClient
from imapclient.datetime_util import parse_to_datetime
from imapclient.response_parser import parse_fetch_response

log = logging.getLogger(__name__)

_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_DATE = re.compile(rb'\bINTERNALDATE "([^"]+)"')
_FLAGS = re.compile(rb"\bFLAGS \(([^)]*)\)")
_MODSEQ = re.compile(rb"\bMODSEQ \((\d+)\)")
_BODY_LITERAL = re.compile(rb"\bBODY\[\] \{\d+\}$")


def uid_set(uids: Iterable[int]) -> str:
    """A compact IMAP sequence set ("1:5,9,12:14") for sorted or unsorted UIDs."""
    ranges: list[str] = []
    start = end = None
    for uid in sorted(uids):
        if start is None:
            start = end = uid
        elif uid == end + 1:
            end = uid
        else:
            ranges.append(f"{start}:{end}" if end > start else str(start))
            start = end = uid
    if start is not None:
        ranges.append(f"{start}:{end}" if end > start else str(start))
    return ",".join(ranges)


def parse_uid_set(text: str) -> set[int]:
    """The UIDs a sequence set names (no "*": servers never send one back)."""
    uids: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition(":")
        first, last = sorted((int(low), int(high or low)))
        uids.update(range(first, last + 1))
    return uids


def uid_fetch(
    client: IMAPClient, uids: str, items: str, modifiers: str | None = None
) -> list:
    """Run UID FETCH over a sequence set; imaplib's untagged FETCH data, unparsed."""
    args = ["FETCH", uids, f"({items})"]
    if modifiers:
        args.append(f"({modifiers})")
    imap = client._imap
    tag = imap._command("UID", *args)
    typ, data = imap._command_complete("FETCH", tag)
    client._checkok("fetch", typ, data)
    _typ, data = imap._untagged_response(typ, data, "FETCH")
    return [] if data == [None] else data


def fetch_items(
    client: IMAPClient, uids: str, items: str, modifiers: str | None = None
) -> dict[int, dict]:
    """UID FETCH parsed by imapclient: {uid: {item: value}}, times zone-aware."""
    return _parsed(uid_fetch(client, uids, items, modifiers))


def _parsed(data: list) -> dict[int, dict]:
    # Keyed by sequence number first: an unsolicited update without a UID must
    # not be taken for the message whose UID equals its sequence number.
    parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=False)
    return {items[b"UID"]: items for items in parsed.values() if b"UID" in items}


def fetch_bodies(client: IMAPClient, uids: str) -> dict[int, bytes]:
    """The raw bytes of each message (BODY.PEEK[], so none is marked \\Seen)."""
    return read_bodies(uid_fetch(client, uids, "BODY.PEEK[]"))


def read_bodies(data: list) -> dict[int, bytes]:
    """{uid: raw} from the data of a UID FETCH of BODY[]."""
    bodies: dict[int, bytes] = {}
    for entry in data:
        if not isinstance(entry, tuple):
            continue  # the ")" closing a response, or an unsolicited update
        head, literal = entry
        uid = _UID.search(head)
        if uid is None or not _BODY_LITERAL.search(head):
            return {u: d[b"BODY[]"] for u, d in _parsed(data).items() if b"BODY[]" in d}
        bodies[int(uid.group(1))] = literal
    return bodies


def fetch_meta(client: IMAPClient, uids: str, modseq: bool) -> dict[int, dict]:
    """Size, INTERNALDATE, flags (and MODSEQ) of messages, keyed like imapclient's."""
    items = "RFC822.SIZE INTERNALDATE FLAGS" + (" MODSEQ" if modseq else "")
    return read_meta(uid_fetch(client, uids, items))


def read_meta(data: list) -> dict[int, dict]:
    """{uid: {item: value}} from the data of a UID FETCH of sizes, dates and flags."""
    return {uid: items for uid, items in read_items(data).items()
            if b"RFC822.SIZE" in items}


def read_items(data: list) -> dict[int, dict]:
    """{uid: {item: value}} from FETCH data without literals, read fast.

    Reads UID, RFC822.SIZE, INTERNALDATE, FLAGS and MODSEQ; a response with a
    literal or with anything the fast reading cannot vouch for sends the whole
    answer through imapclient's parser. Unsolicited updates without a UID are
    left out, as imapclient's fetch() leaves them out.
    """
    found: dict[int, dict] = {}
    for line in data:
        if not isinstance(line, bytes):
            return _parsed(data)
        uid = _UID.search(line)
        if uid is None:
            continue
        items = _line_items(line)
        if items is None:
            return _parsed(data)
        found[int(uid.group(1))] = items
    return found


def _line_items(line: bytes) -> dict | None:
    items: dict = {}
    for name, pattern, convert in _LINE_ITEMS:
        if name in line:
            match = pattern.search(line)
            if match is None:
                return None
            items[name] = convert(match.group(1))
    return items


_LINE_ITEMS = (
    (b"RFC822.SIZE", _SIZE, int),
    (b"INTERNALDATE", _DATE, lambda text: _internal_date(text)),
    (b"FLAGS", _FLAGS, lambda text: tuple(text.split())),
    (b"MODSEQ", _MODSEQ, lambda text: (int(text),)),
)


def _internal_date(text: bytes) -> datetime | None:
    try:
        return parse_to_datetime(text, normalise=False)
    except ValueError:
        log.warning("unreadable INTERNALDATE %r", text[:40])
        return None


def search_uids(client: IMAPClient, uids: str) -> list[int]:
    """The UIDs that exist within a sequence set such as "41:*", in order."""
    if client.has_capability("ESEARCH"):
        return _esearch_uids(client, uids)
    # Without ESEARCH one SEARCH line lists every UID and imaplib caps a line at
    # 1 MB; FETCH answers one line per message instead.
    found = fetch_items(client, uids, "UID")
    return sorted(found)


def _esearch_uids(client: IMAPClient, uids: str) -> list[int]:
    # RFC 4731: "* ESEARCH (TAG "x") UID ALL 1:500,502" - ranges, not every UID.
    imap = client._imap
    tag = imap._command("UID", "SEARCH", "RETURN", "(ALL)", "UID", uids)
    typ, data = imap._command_complete("SEARCH", tag)
    client._checkok("search", typ, data)
    found: set[int] = set()
    for line in imap.untagged_responses.pop("ESEARCH", []):
        words = line.split()
        if b"ALL" in words:
            found |= parse_uid_set(words[words.index(b"ALL") + 1].decode())
    return sorted(found)



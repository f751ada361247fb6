"""Address lists from header values: display names decoded, IDN domains in Unicode.

Most address headers are plain (`Name <a@b>, c@d`), and one regular expression
reads them ten times faster than a full RFC 5322 parser. Anything else (groups,
comments, quoted pairs, broken syntax) goes to mail-parser's recovering parser,
which also survives the 100 KB headers that make `email.utils` recurse too deep.
"""

from __future__ import annotations

import logging
import re

from mailparser.utils import get_addresses

from mailservice.parsing.charsets import decode_words
from mailservice.parsing.fields import strip_comments

log = logging.getLogger(__name__)

_PLAIN_ITEM = re.compile(
    r"""[ \t\r\n]*(?:
        (?:"(?P<quoted>[^"\\]*)"|(?P<name>[^<>"(),;:\\@]*?))[ \t\r\n]*
            <(?P<angle>[^<>\s"(),;:\\@]+@[^<>\s"(),;:\\@]+)>
      | (?P<bare>[^<>\s"(),;:\\@]+@[^<>\s"(),;:\\@]+)
            (?:[ \t\r\n]*\((?P<comment>[^()\\]*)\))?  # old style: a@b (Name)
    )[ \t\r\n]*(?:,|$)""",
    re.VERBOSE,
)
# RFC 5322 4.4 (obsolete syntax) allows comments and spaces around "." and "@".
_SPACED_DOT_OR_AT = re.compile(r"\s*([.@])\s*")
# Anything that looks like an addr-spec, for values no grammar can read.
_ADDR_SPEC = re.compile(r"[^\s<>\"(),;:@]+@[^\s<>\"(),;:@]+\.[^\s<>\"(),;:@]+")
_NOT_IN_ADDR_SPEC = re.compile(r"[\s<>\"(),;:]+")
MAX_ADDRESS_LENGTH = 320  # RFC 5321 4.5.3.1: 64 for the local part, 255 the domain
# The recovering parser costs ~0.3 ms a kilobyte: a 135 KB header (MimeKit's
# stack-overflow.txt) would stall the hot path, so long values go item by item.
MAX_RECOVERED_LENGTH = 4096
# One list item: quoted strings, comments and angle-addrs may hold commas.
_ITEM = re.compile(r'(?:"(?:[^"\\]|\\.)*"?|\([^()]*\)?|<[^<>]*>?|[^,"(<]+)+')


def parse_address_list(value: str) -> list[tuple[str | None, str]]:
    """(display name or None, address) for each mailbox in an address header."""
    pairs = _plain_pairs(value)
    if pairs is None and len(value) <= MAX_RECOVERED_LENGTH:
        pairs = _recovered_pairs(value)
    elif pairs is None:
        pairs = [pair for item in _ITEM.findall(value) for pair in _item_pairs(item)]

    result = []
    for name, address in pairs:
        address = display_address(address.strip())
        if not address or len(address) > MAX_ADDRESS_LENGTH:
            continue
        name = " ".join(decode_words(name).split()) if name else ""
        result.append((name if name and name != address else None, address))
    return result


def display_address(address: str) -> str:
    """The address with an IDNA (xn--) domain shown in Unicode (RFC 5891)."""
    local, at, domain = address.rpartition("@")
    if not at or "xn--" not in domain.lower():
        return address
    labels = []
    for label in domain.split("."):
        try:
            labels.append(label.encode("ascii").decode("idna"))
        except (UnicodeError, ValueError):
            labels.append(label)
    return f"{local}@{'.'.join(labels)}"


def _plain_pairs(value: str) -> list[tuple[str, str]] | None:
    pairs = []
    position = 0
    while position < len(value):
        match = _PLAIN_ITEM.match(value, position)
        if match is None or match.end() == position:
            return None
        position = match.end()
        if match.group("bare"):
            pairs.append((match.group("comment") or "", match.group("bare")))
        else:
            pairs.append((match.group("quoted") or match.group("name") or "",
                          match.group("angle")))
    return pairs


def _item_pairs(item: str) -> list[tuple[str, str]]:
    pairs = _plain_pairs(item)
    if pairs is not None:
        return pairs
    if len(item) <= MAX_RECOVERED_LENGTH:
        return _recovered_pairs(item)
    return _address_like(item)


def _recovered_pairs(value: str) -> list[tuple[str, str]]:
    pairs = _mail_parser_pairs(value)
    if pairs:
        return pairs
    cleaned = _SPACED_DOT_OR_AT.sub(r"\1", strip_comments(value))
    pairs = _plain_pairs(cleaned) or _mail_parser_pairs(cleaned)
    if pairs:
        return pairs
    # No grammar reads it ("a@b.com c@d.com"): keep whatever looks like addresses.
    return _address_like(cleaned)


def _address_like(text: str) -> list[tuple[str, str]]:
    # Split first: scanning for the pattern is quadratic in runs without "@".
    tokens = _NOT_IN_ADDR_SPEC.split(text)
    return [("", t) for t in tokens if "@" in t and _ADDR_SPEC.fullmatch(t)]


def _mail_parser_pairs(value: str) -> list[tuple[str, str]]:
    try:
        return [pair for pair in get_addresses(value) if pair[1]]
    except Exception as exc:  # a third-party parser on hostile input
        log.debug("address recovery failed: %s", exc)
        return []

"""Header values made safe, addresses formatted, and our own Message-IDs minted.

Every value that goes into an outgoing header passes `clean_header_value`: a CR
or LF inside a value would let a user or a contact record start a new header
(header injection, RFC 5322 2.2: a header field ends at CRLF).
"""

from __future__ import annotations

import re
import secrets
import time
from email.headerregistry import Address
from email.utils import formataddr, parseaddr

from mailservice.errors import HeaderInjectionError

_LINE_BREAKS = re.compile(r"[\r\n\x00\u2028\u2029\x85]+")
_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[^@\s<>\"(),;:\\\[\]]+\.[^@\s<>]+$")


def clean_header_value(value: str, *, field: str, strict: bool = False) -> str:
    """`value` without line breaks (made one space); `strict` refuses them."""
    if _LINE_BREAKS.search(value) is None:
        return value.strip()
    if strict:
        raise HeaderInjectionError(
            f"the {field} contains a line break, which is not allowed in a mail header"
        )
    return _LINE_BREAKS.sub(" ", value).strip()


def validate_address(address: str, *, field: str) -> str:
    """A bare address checked for shape and line breaks; raises naming the field."""
    address = clean_header_value(address, field=field, strict=True)
    if not _ADDRESS.match(address):
        raise HeaderInjectionError(f"the {field} {address!r} is not an e-mail address")
    return address


def format_address(name: str | None, address: str, *, field: str) -> str:
    """`Name <address>` with the name cleaned; the policy does RFC 2047."""
    address = validate_address(address, field=field)
    clean_name = clean_header_value(name or "", field=f"{field} name")
    return formataddr((clean_name, address)) if clean_name else address


def header_address(name: str | None, address: str, *, field: str) -> Address:
    """An `Address` object for email.message, which encodes non-ASCII names itself."""
    address = validate_address(address, field=field)
    clean_name = clean_header_value(name or "", field=f"{field} name")
    local, _, domain = address.rpartition("@")
    return Address(display_name=clean_name, username=local, domain=domain)


def split_address(text: str, *, field: str) -> tuple[str, str]:
    """(name, address) from one `Name <a@b>` or bare address typed by a person."""
    text = clean_header_value(text, field=field, strict=True)
    name, address = parseaddr(text)
    return name, validate_address(address or text, field=field)


def make_message_id(domain: str) -> str:
    """A new Message-ID (no angle brackets) on our domain, unique worldwide.

    RFC 5322 3.6.4: id-left is ours to choose; the time and 96 random bits make
    it unique without asking the database.
    """
    domain = clean_header_value(domain, field="message id domain", strict=True)
    return f"ms.{int(time.time())}.{secrets.token_hex(12)}@{domain}"


def angle(message_id: str) -> str:
    """A Message-ID in the angle brackets the header wants."""
    return f"<{message_id.strip('<> ')}>"


def strip_angle(message_id: str) -> str:
    """A Message-ID without its angle brackets and blanks, as the database keeps it."""
    return message_id.strip().strip("<>").strip()

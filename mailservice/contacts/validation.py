"""Checks on what people type about a contact: NIP, postal code, addresses, domains."""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidChecksum, InvalidLength, ValidationError
from stdnum.pl import nip as stdnum_nip

from mailservice.contacts.addresses import (
    is_valid_address,
    is_valid_domain,
    normalize_domain,
)
from mailservice.errors import ContactError, InvalidNipError

_PL_POSTAL_RE = re.compile(r"^(\d{2})-?(\d{3})$")
_LIST_SPLIT_RE = re.compile(r"[,;\s]+")


def parse_nip(value: str) -> str:
    """The 10 digits of a Polish NIP typed with or without "PL", dashes or spaces."""
    try:
        return stdnum_nip.validate(value)
    except InvalidChecksum:
        raise InvalidNipError(f"NIP {value.strip()!r} fails its checksum") from None
    except InvalidLength:
        raise InvalidNipError(f"NIP {value.strip()!r} must have 10 digits") from None
    except ValidationError:
        raise InvalidNipError(f"NIP {value.strip()!r} is not a number") from None


def format_nip(nip: str | None) -> str:
    """A stored NIP as people write it (123-456-32-18), or "" when there is none."""
    return stdnum_nip.format(nip) if nip else ""


def parse_postal_code(value: str, country: str) -> str:
    """A postal code, checked as NN-NNN for Poland and kept as typed elsewhere."""
    text = value.strip()
    if country != "PL":
        return text
    match = _PL_POSTAL_RE.match(text)
    if not match:
        raise ContactError(f"postal code {text!r} is not in the form NN-NNN")
    return f"{match[1]}-{match[2]}"


def parse_addresses(value: str) -> list[str]:
    """The e-mail addresses in a cell separated by ',', ';' or spaces, each checked."""
    addresses = split_values(value)
    for address in addresses:
        if not is_valid_address(address):
            raise ContactError(f"{address!r} is not a valid e-mail address")
    return addresses


def parse_domains(value: str, free_mail_domains: set[str]) -> list[str]:
    """The mail domains in a cell, normalised; free-mail domains are refused."""
    domains = [normalize_domain(item) for item in split_values(value)]
    for domain in domains:
        if not is_valid_domain(domain):
            raise ContactError(f"{domain!r} is not a valid mail domain")
        if domain in free_mail_domains:
            raise ContactError(
                f"{domain} is a free-mail domain; it cannot belong to one contact"
            )
    return domains


def split_values(value: str) -> list[str]:
    """The non-empty items of a cell holding a list, without repeats, in order."""
    items = (item.strip() for item in _LIST_SPLIT_RE.split(value or ""))
    return list(dict.fromkeys(item for item in items if item))

"""The one normal form of an e-mail address, used by messages and contacts alike.

Sync fills `MessageAddress.address_norm` with `normalize_address` and
`MessageAddress.domain` with `domain_of`; contacts store their addresses and
domains in the same form, so linking is a plain equality join.
"""

from __future__ import annotations

import re
import unicodedata

# Characters that never occur unquoted in an addr-spec (RFC 5322 3.2.3, 3.4.1).
_SPECIALS = r"\s<>()\[\],;:\"@\\"
_ADDRESS_RE = re.compile(rf"^[^{_SPECIALS}]+@[^{_SPECIALS}]+\.[^{_SPECIALS}.]+$")
_LABEL_RE = re.compile(r"^[^\W_](?:[\w-]*[^\W_])?$")


def normalize_address(address: str) -> str:
    """The matching form: lowercased, trimmed, +tag dropped, IDN domain in Unicode.

    "Jan+Faktury@Firma.PL" and "jan@firma.pl" give the same result.
    """
    text = address.strip().strip("<>").strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()

    local = local.lower()
    # Plus-addressing ("subaddress", RFC 5233): the tag is chosen by the sender,
    # the mailbox is the part before it.
    base, plus, _tag = local.partition("+")
    if plus and base:
        local = base
    return f"{local}@{normalize_domain(domain)}"


def normalize_domain(domain: str) -> str:
    """A domain in lowercase Unicode: punycode labels decoded, trailing dot dropped."""
    labels = domain.strip().strip("@").rstrip(".").split(".")
    decoded = ".".join(_label_to_unicode(label) for label in labels)
    return unicodedata.normalize("NFC", decoded).lower()


def domain_of(address: str) -> str:
    """The normalised domain of an address, or "" when it has none."""
    _local, at, domain = address.strip().strip("<>").rpartition("@")
    return normalize_domain(domain) if at else ""


def is_valid_address(address: str) -> bool:
    """Whether `address` looks like a deliverable addr-spec (local@domain.tld)."""
    text = address.strip()
    if not _ADDRESS_RE.match(text):
        return False
    return is_valid_domain(text.rpartition("@")[2])


def is_valid_domain(domain: str) -> bool:
    """Whether `domain` is a host name of at least two labels (firma.pl)."""
    labels = normalize_domain(domain).split(".")
    if len(labels) < 2 or len(domain) > 255:
        return False
    return all(_LABEL_RE.match(label) and len(label) <= 63 for label in labels)


def _label_to_unicode(label: str) -> str:
    # IDNA (RFC 5891): an "xn--" label is the punycode form of a Unicode label.
    if not label.lower().startswith("xn--"):
        return label
    try:
        return label[4:].lower().encode("ascii").decode("punycode")
    except (UnicodeError, ValueError):
        return label

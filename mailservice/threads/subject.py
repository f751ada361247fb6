"""Subjects as threading compares them: reply and forward prefixes and list tags gone.

"Re: Fwd: [firma-lista] Odp: Faktura 12/2026" and "FAKTURA 12/2026" normalise to the
same "faktura 12/2026". RFC 5322 3.6.5 names only "Re:", but mail clients write the
prefix in their user's language, in any case, with counters ("RE[2]:", "Re^3:") and,
in French, a space before the colon ("Re :"). Mailing lists put their tag in
brackets in front ("[firma-lista] ..."), before or after the prefixes.

The ingest stores `normalize_subject(subject)` in Message.normalized_subject; the
threader matches messages on that column.
"""

from __future__ import annotations

import re
import unicodedata

# The longest normalised subject the column holds (Message.normalized_subject).
MAX_NORMALIZED_LENGTH = 500

# Reply and forward markers: re (Latin), aw/antw/antwort and wg (German answer and
# forward), odp/odpowiedź and pd (Polish answer and "prześlij dalej"), fw/fwd,
# sv (Scandinavian), vs (Finnish), tr (French "transfert"), rif (Italian), rv and
# res/enc (Spanish and Portuguese). Each may carry a counter and must end in a
# colon, so "Trasa: Kraków" or "Resume" are left alone.
_PREFIX = re.compile(
    r"(?:re|aw|antw|antwort|odp|odpowied[źz]|fwd?|pd|wg|sv|vs|tr|rif|rv|res|enc)"
    r"\s*(?:\[\d+\]|\(\d+\)|\^\d+)?\s*[:：]\s*",
    re.IGNORECASE,
)
# A list tag such as "[firma-lista]" or "[EXTERNAL]".
_LIST_TAG = re.compile(r"\[[^\[\]]{1,40}\]\s*")
# The old "Subject (fwd)" convention of pine and early list software.
_TRAILING_FWD = re.compile(r"\s*\(fwd\)$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")

# What mail clients put in when the sender wrote no subject: saying nothing about
# the conversation, such subjects never join messages on their own.
_PLACEHOLDERS = frozenset(
    {
        "no subject", "(no subject)", "untitled", "(untitled)",
        "brak tematu", "(brak tematu)", "bez tematu", "(bez tematu)",
        "kein betreff", "(kein betreff)", "sans objet", "(sans objet)",
    }
)
_MIN_MEANINGFUL_LENGTH = 3


def normalize_subject(subject: str | None) -> str:
    """The subject without reply/forward prefixes and list tags, casefolded."""
    text, _ = _strip_markers(subject)
    return text.casefold()[:MAX_NORMALIZED_LENGTH]


def is_reply_subject(subject: str | None) -> bool:
    """Whether the subject carries a reply or forward prefix ("Re:", "Odp:", "WG:")."""
    _, had_prefix = _strip_markers(subject)
    return had_prefix


def is_generic_subject(normalized: str | None) -> bool:
    """Whether a normalised subject is too empty to join messages by itself."""
    if not normalized or len(normalized) < _MIN_MEANINGFUL_LENGTH:
        return True
    return normalized in _PLACEHOLDERS


def _strip_markers(subject: str | None) -> tuple[str, bool]:
    # NFKC folds full-width colons and compatibility forms, NFC keeps "ź" one
    # character whichever way the client composed it.
    text = unicodedata.normalize("NFKC", subject or "")
    text = _SPACE.sub(" ", text).strip()
    had_prefix = False

    while True:
        prefix = _PREFIX.match(text)
        if prefix:
            text, had_prefix = text[prefix.end():], True
            continue
        tag = _LIST_TAG.match(text)
        # A subject that is only a tag keeps it: the tag is then all it says.
        if tag and tag.end() < len(text):
            text = text[tag.end():]
            continue
        break

    text, forwarded = _TRAILING_FWD.subn("", text)
    return text.strip(), had_prefix or forwarded > 0

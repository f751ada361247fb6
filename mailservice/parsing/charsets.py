"""Bytes to text whatever the charset label says: wrong, unknown or missing.

Mail lies about its charset often: `us-ascii` over UTF-8, `utf-8` over Polish
windows-1250, labels no codec knows (`x-unknown`, `unknown-8bit`), or none at all.
The rule: try the label, then UTF-8, then guess among the single-byte charsets a
Polish company meets (windows-1250, ISO-8859-2, windows-1252). Nothing here raises.
"""

from __future__ import annotations

import binascii
import codecs
import re
from functools import lru_cache

# Labels that name no charset at all; the bytes must be guessed.
_NO_CHARSET = {"", "unknown", "unknown-8bit", "x-unknown", "x-user-defined", "none",
               "default", "charset", "8bit", "7bit", "binary", "undefined"}

_ASCII_LABELS = {"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "us"}

# Codecs Python has that are no text charset of mail (or encode no text at all).
_NOT_MAIL_CHARSETS = {"idna", "punycode", "raw-unicode-escape", "unicode-escape",
                      "undefined", "raw_unicode_escape", "unicode_escape"}

# Supersets that decode what the label meant and more (WHATWG Encoding Standard).
_SUPERSETS = {"latin-1": "cp1252", "iso8859-1": "cp1252",
              "euc_kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
              "shift_jis": "cp932", "iso8859-9": "cp1254", "tis-620": "cp874"}

# Labels some codecs lack under these spellings.
_ALIASES = {"iso-8859-8-i": "iso8859-8", "windows-874": "cp874", "x-mac-roman":
            "mac-roman", "cp-850": "cp850", "x-sjis": "cp932", "utf8mb4": "utf-8"}

# Charsets that stay within 7-bit bytes, so ASCII-only data is not ASCII text.
_SEVEN_BIT = ("utf-7", "iso2022", "hz", "utf-16", "utf-32")

_WINDOWS_TWIN = {"iso8859-2": "cp1250", "iso8859-13": "cp1257", "iso8859-15": "cp1252"}
_C1_BYTES = re.compile(rb"[\x80-\x9f]")

_LABEL_PRONE_TO_LIES = {"cp1252"}

_POLISH = set("ąćęłńśźżĄĆĘŁŃŚŹŻ")
_GUESSES = ("cp1252", "cp1250", "iso8859-2")  # ties go to the first


@lru_cache(maxsize=256)
def codec_name(label: str | None) -> str | None:
    """The Python codec for a MIME charset label, or None when it names none."""
    if label is None:
        return None
    label = label.strip().strip("\"'").lower().split("*", 1)[0]
    # An ASCII label says nothing about 8-bit bytes, so they are guessed too.
    if label in _NO_CHARSET or label in _ASCII_LABELS:
        return None
    try:
        info = codecs.lookup(_ALIASES.get(label, label))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_MAIL_CHARSETS:
        return None
    return _SUPERSETS.get(info.name, info.name)


def decode_text(data: bytes, label: str | None = None) -> str:
    """Decode a body or header from `data`, trusting `label` only as far as it works."""
    codec = codec_name(label)
    if data.isascii() and not (codec and codec.startswith(_SEVEN_BIT)):
        return data.decode("ascii")

    if codec in _WINDOWS_TWIN and _C1_BYTES.search(data):
        # Bytes 0x80-0x9F are control codes in ISO-8859-n and never sent as
        # such: the text is the Windows code page the label stands in for
        # (what browsers do too, WHATWG Encoding Standard).
        codec = _WINDOWS_TWIN[codec]
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            # A Western label over valid UTF-8 is a lie told by many mailers.
            if codec in _LABEL_PRONE_TO_LIES:
                return _strict(data, "utf-8") or text
            return text

    text = _strict(data, "utf-8") or _mostly_utf8(data)
    if text is not None:
        return text
    if codec is not None and not codec.startswith(("utf", "cp1252")):
        return data.decode(codec, "replace")
    return guess_single_byte(data)


def _mostly_utf8(data: bytes) -> str | None:
    # UTF-8 cut short or with a stray byte: valid multibyte sequences almost
    # never occur by chance in single-byte text, so many of them outvote a few
    # broken ones.
    text = data.decode("utf-8", "replace")
    broken = text.count("\ufffd")
    valid = sum(ord(ch) > 127 for ch in text) - broken
    return text if valid >= 3 * broken and valid > 0 else None


def guess_single_byte(data: bytes) -> str:
    """Decode 8-bit bytes of no known charset: whichever reads most like Polish."""
    best, best_score = "", None
    for codec in _GUESSES:
        text = data.decode(codec, "replace")
        score = sum(ch in _POLISH for ch in text) - 3 * text.count("\ufffd")
        if best_score is None or score > best_score:
            best, best_score = text, score
    return best


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeError, LookupError, ValueError, TypeError):
        return None


# RFC 2047 section 2: =?charset?encoding?encoded-text?= ; RFC 2231 section 5 allows
# a *language suffix on the charset.
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([qQbB])\?([^?]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t\r\n]*")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


def decode_words(value: str) -> str:
    """Decode the RFC 2047 encoded words in a header value (lenient)."""
    if "=?" not in value:
        return value
    out: list[str] = []
    pending: list[bytes] = []
    charset = None
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[position:match.start()]
        # RFC 2047 6.2: whitespace between adjacent encoded words is dropped;
        # words of one charset join before decoding, so a multibyte character
        # split across two words survives.
        adjacent = pending and _BETWEEN_WORDS.fullmatch(gap)
        if pending and not (adjacent and match.group(1).lower() == charset.lower()):
            out.append(decode_text(b"".join(pending), charset))
            pending = []
        if not adjacent:
            out.append(gap)
        pending.append(_decode_word(match.group(2), match.group(3)))
        charset = match.group(1)
        position = match.end()
    out.append(decode_text(b"".join(pending), charset))
    out.append(value[position:])
    return "".join(out)


def _decode_word(encoding: str, text: str) -> bytes:
    data = text.encode("ascii", "replace")
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)  # RFC 2047 4.2: "_" is a space
    data = _NOT_BASE64.sub(b"", data.split(b"=", 1)[0])
    if len(data) % 4 == 1:
        data = data[:-1]  # a lone sextet carries no whole byte
    try:
        return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
    except binascii.Error:
        return text.encode("ascii", "replace")

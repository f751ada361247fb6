"""Plain text out of HTML bodies, and the snippet shown under a subject in a list.

Regular expressions, not an HTML parser: this text feeds search and a one-line
preview, never display, and must cost little on 100 KB newsletters.
"""

from __future__ import annotations

import html
import re

SNIPPET_LENGTH = 200

_INVISIBLE = re.compile(
    r"<(script|style|head|title|template)\b.*?</\1\s*>|<!--.*?-->", re.I | re.S
)
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:p|div|br|tr|li|h[1-6]|table|blockquote)\b[^>]*>",
                        re.I)
_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*(?:\n\s*)+")
_WHITESPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I
)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: tags dropped, entities decoded, lines kept."""
    markup = _INVISIBLE.sub(" ", markup)
    markup = _BLOCK_TAG.sub("\n", markup)
    text = html.unescape(_TAG.sub(" ", markup))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def snippet(text: str | None) -> str:
    """The first words of a body for a list, without quoted history or runs of space."""
    if not text:
        return ""
    lines = [line for line in text[: SNIPPET_LENGTH * 20].splitlines()
             if not line.lstrip().startswith(">")]
    flat = _WHITESPACE.sub(" ", _CONTROL.sub("", " ".join(lines))).strip()
    if len(flat) <= SNIPPET_LENGTH:
        return flat
    cut = flat[:SNIPPET_LENGTH].rsplit(" ", 1)[0]
    return cut + "…"


def html_meta_charset(data: bytes) -> str | None:
    """The charset an HTML document declares in a <meta> tag near its top."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None

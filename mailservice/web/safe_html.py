"""Mail bodies made safe to show: HTML through nh3 (ammonia), text escaped and linked.

The sanitiser is the first wall; the second is the frame the HTML is shown in
(sandboxed, no scripts, no same-origin) and its Content-Security-Policy, which
blocks every remote load unless the user asked for remote content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nh3
from markupsafe import Markup, escape

TAGS = (nh3.ALLOWED_TAGS | {"font", "tfoot", "center"}) - {"map", "area"}
# Tags dropped with everything inside them, not just unwrapped.
DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "title",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "math",
    "textarea",
    "select",
    "button",
}
ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {
        "style",
        "dir",
        "lang",
        "title",
        "align",
        "valign",
        "bgcolor",
        "width",
        "height",
    },
    "font": {"color", "face", "size"},
    "table": {
        "border",
        "cellpadding",
        "cellspacing",
        "summary",
        "align",
        "width",
        "bgcolor",
    },
    "img": {"src", "alt", "width", "height", "align", "border"},
    "details": {"open"},
}
# Properties that shape text and boxes; nothing that positions over the page.
STYLE_PROPERTIES = {
    "color",
    "background-color",
    "background",
    "background-image",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-indent",
    "text-transform",
    "line-height",
    "letter-spacing",
    "white-space",
    "vertical-align",
    "width",
    "max-width",
    "min-width",
    "height",
    "max-height",
    "margin",
    "margin-top",
    "margin-bottom",
    "margin-left",
    "margin-right",
    "padding",
    "padding-top",
    "padding-bottom",
    "padding-left",
    "padding-right",
    "border",
    "border-top",
    "border-bottom",
    "border-left",
    "border-right",
    "border-color",
    "border-style",
    "border-width",
    "border-collapse",
    "border-spacing",
    "border-radius",
    "display",
    "list-style-type",
    "table-layout",
    "word-break",
    "overflow-wrap",
}
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid", "data"}
RASTER_DATA = re.compile(
    r"data:image/(png|jpeg|gif|webp);base64,[a-z0-9+/=\s]*\Z", re.I
)
REMOTE = re.compile(r"(https?:)?//", re.I)
CSS_URL = re.compile(r"url\s*\(", re.I)
CSS_URL_CALL = re.compile(r"url\s*\([^)]*\)?", re.I)


REMOTE_REFERENCE = re.compile(
    r"""(src|background|srcset|poster)\s*=\s*["']?\s*(https?:)?//|url\s*\(""", re.I
)


def mentions_remote(html: str | None) -> bool:
    """Whether mail HTML refers to anything remote (a cheap look, for the UI)."""
    return bool(html) and REMOTE_REFERENCE.search(html) is not None


@dataclass
class SafeBody:
    """Sanitised HTML and whether remote content was held back from it."""

    html: str
    remote_blocked: bool


def sanitize_mail_html(
    html: str, inline_images: dict[str, str], allow_remote: bool
) -> SafeBody:
    """Clean mail HTML: cid: images from `inline_images`, remote loads only if allowed.

    `inline_images` maps a Content-ID (without <>) to a data: URL of that part.
    """
    blocked = False

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if attribute == "src" and tag == "img":
            return _image_source(value)
        if attribute == "style":
            return _style(value)
        if attribute == "background" or (attribute == "href" and tag != "a"):
            return None
        if attribute == "href" and value.lower().startswith(("data:", "cid:")):
            return None
        return value

    def _style(value: str) -> str | None:
        nonlocal blocked
        if "\\" in value:
            return None  # CSS escapes could spell url( in ways a pattern misses
        if CSS_URL.search(value) and not allow_remote:
            blocked = True
            return CSS_URL_CALL.sub("none", value)
        return value

    def _image_source(value: str) -> str | None:
        nonlocal blocked
        if value.lower().startswith("cid:"):
            return inline_images.get(value[4:].strip("<> "))
        if value.lower().startswith("data:"):
            return value if RASTER_DATA.match(value) else None
        if REMOTE.match(value):
            blocked = blocked or not allow_remote
            return value if allow_remote else None
        return None

    cleaned = nh3.clean(
        fold_html_quotes(html),
        tags=TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ATTRIBUTES,
        attribute_filter=keep,
        url_schemes=URL_SCHEMES,
        filter_style_properties=STYLE_PROPERTIES,
        link_rel="noopener noreferrer",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_relative="deny",
        allowed_classes={"details": {"quoted"}},
        strip_comments=True,
    )
    return SafeBody(cleaned, blocked)


QUOTE_START = re.compile(
    r"<(blockquote)\b[^>]*>|<div\b[^>]*class=[\"']?[^\"'>]*gmail_quote[^>]*>", re.I
)


def fold_html_quotes(html: str) -> str:
    """Wrap the first quoted block (a reply's history) in a closed <details>.

    Runs before sanitising: the sanitiser then repairs whatever nesting this
    rough cut leaves, so a malformed mail folds oddly but never unsafely.
    """
    match = QUOTE_START.search(html)
    if match is None:
        return html
    return (
        html[: match.start()]
        + '<details class="quoted"><summary>…</summary>'
        + html[match.start() :]
        + "</details>"
    )


LINK = re.compile(
    r"(?P<url>(?:https?://|www\.)[^\s<>\"']+[^\s<>\"'.,;:!?)\]}])"
    r"|(?P<mail>\bmailto:[^\s<>\"']+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)",
    re.I,
)
ATTRIBUTION = re.compile(
    r"^(?:On .+ wrote:|W dniu .+ pisze:|Am .+ schrieb .+:|"
    r"-{2,}\s*(?:Original Message|Oryginalna wiadomo\S+|Wiadomo\S+ oryginalna)\s*-{2,}"
    r"|From: .+|Od: .+)\s*$",
    re.I,
)


def text_to_html(text: str) -> Markup:
    """Plain text as safe HTML: escaped, links made clickable, quoted history folded."""
    lines = text.splitlines()
    fold_at = _quote_start(lines)
    shown = _linkify("\n".join(lines[:fold_at]))
    if fold_at >= len(lines):
        return Markup('<pre class="body-text">') + shown + Markup("</pre>")
    folded = _linkify("\n".join(lines[fold_at:]))
    return (
        Markup('<pre class="body-text">')
        + shown
        + Markup("</pre>")
        + Markup('<details class="quoted"><summary>…</summary><pre class="body-text">')
        + folded
        + Markup("</pre></details>")
    )


def _quote_start(lines: list[str]) -> int:
    for number, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">") or (number > 0 and ATTRIBUTION.match(stripped)):
            following = lines[number + 1 : number + 4]
            if (
                stripped.startswith(">")
                or any(l.startswith(">") for l in following)
                or stripped.startswith("-")
            ):
                return number
    return len(lines)


def _linkify(text: str) -> Markup:
    parts: list[Markup] = []
    position = 0
    for match in LINK.finditer(text):
        parts.append(escape(text[position : match.start()]))
        parts.append(_link(match))
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def _link(match: re.Match) -> Markup:
    shown = match.group(0)
    if match.group("url"):
        href = shown if "://" in shown else f"https://{shown}"
        return Markup(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>'
        ).format(href, shown)
    href = shown if shown.lower().startswith("mailto:") else f"mailto:{shown}"
    return Markup('<a href="{}">{}</a>').format(href, shown)

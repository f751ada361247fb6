"""Building the MIME message of an outgoing row: the bytes that go into the spool.

Layout (RFC 2046): multipart/mixed holds the body and attachments; the body is
multipart/alternative of text/plain and the HTML, which is multipart/related
with its inline images when it has any. Non-ASCII names and subjects are encoded
by the `email` policy as RFC 2047 words, file names as RFC 2231 parameters.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

import css_inline

from mailservice.db.base import utcnow
from mailservice.outbound.headers import (
    angle,
    clean_header_value,
    header_address,
)

log = logging.getLogger(__name__)

MAILER = "mailservice"
# Mail clients ignore <style> blocks in many cases; inlining keeps the look.
_INLINER = css_inline.CSSInliner(keep_style_tags=False, load_remote_stylesheets=False)
BASE_CSS = (
    "body { font-family: Arial, Helvetica, sans-serif; font-size: 14px; color: #222; }"
    " blockquote { margin: 0 0 0 .8ex; border-left: 1px solid #ccc;"
    " padding-left: 1ex; }"
)


@dataclass
class Part:
    """An attachment or inline image ready to go into the message."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


@dataclass
class Envelope:
    """Everything the builder needs, already validated and rendered."""

    message_id: str
    from_name: str | None
    from_address: str
    to: list[tuple[str | None, str]]
    cc: list[tuple[str | None, str]]
    subject: str
    html: str
    text: str
    in_reply_to: str | None = None
    references: str | None = None
    automatic: bool = False
    reply_to: str | None = None
    # More header fields as (name, value): a mailing's List-Unsubscribe (RFC 8058).
    extra_headers: tuple[tuple[str, str], ...] = ()


def inline_css(html: str) -> str:
    """The HTML as a full document with its CSS moved into style attributes."""
    if "<html" not in html.lower():
        html = (
            '<!DOCTYPE html><html><head><meta charset="utf-8">'
            f"<style>{BASE_CSS}</style></head><body>{html}</body></html>"
        )
    return _INLINER.inline(html)


def build_message(envelope: Envelope, parts: list[Part]) -> bytes:
    """The complete message as CRLF bytes, ready for DATA (without DKIM)."""
    message = EmailMessage(policy=SMTP)
    _set_headers(message, envelope)
    # Quoted-printable keeps the parts 7-bit: no server needs 8BITMIME for them.
    message.set_content(envelope.text, charset="utf-8", cte="quoted-printable")
    message.add_alternative(
        inline_css(envelope.html),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )

    inline = [part for part in parts if part.content_id]
    if inline:
        html_part = message.get_payload()[1]
        for part in inline:
            maintype, subtype = _split_type(part.content_type)
            html_part.add_related(
                part.data,
                maintype,
                subtype,
                cid=angle(part.content_id),
                filename=part.filename,
                disposition="inline",
            )
    for part in parts:
        if not part.content_id:
            maintype, subtype = _split_type(part.content_type)
            message.add_attachment(part.data, maintype, subtype, filename=part.filename)
    _drop_inner_mime_version(message)
    return message.as_bytes(policy=SMTP)


def _drop_inner_mime_version(message: EmailMessage) -> None:
    # The email package stamps MIME-Version on parts it creates; RFC 2045 4 wants
    # it only at the top.
    for part in message.walk():
        if part is not message:
            del part["MIME-Version"]


def _set_headers(message: EmailMessage, envelope: Envelope) -> None:
    message["From"] = header_address(
        envelope.from_name, envelope.from_address, field="sender address"
    )
    if envelope.to:
        message["To"] = [
            header_address(n, a, field="recipient") for n, a in envelope.to
        ]
    if envelope.cc:
        message["Cc"] = [
            header_address(n, a, field="copy recipient") for n, a in envelope.cc
        ]
    if envelope.reply_to:
        message["Reply-To"] = header_address(None, envelope.reply_to, field="reply-to")
    message["Subject"] = clean_header_value(envelope.subject, field="subject")
    message["Date"] = format_datetime(utcnow().astimezone())
    message["Message-ID"] = angle(envelope.message_id)
    if envelope.in_reply_to:
        message["In-Reply-To"] = angle(envelope.in_reply_to)
    if envelope.references:
        message["References"] = clean_header_value(
            envelope.references, field="references"
        )
    if envelope.automatic:
        # RFC 3834 5: mail sent by a program, not a person; auto-responders stay quiet.
        message["Auto-Submitted"] = "auto-generated"
    for name, value in envelope.extra_headers:
        message[clean_header_value(name, field="header name", strict=True)] = (
            clean_header_value(value, field=name)
        )
    message["X-Mailer"] = MAILER


def _split_type(content_type: str) -> tuple[str, str]:
    maintype, _, subtype = content_type.partition("/")
    if not maintype or not subtype:
        return "application", "octet-stream"
    return maintype.strip(), subtype.strip()

"""Rendering templates and signatures in Jinja2's sandbox, compiled once per version.

Admin-edited sources are untrusted code: they run in `SandboxedEnvironment`, which
refuses attribute access to internals (`__class__`, `mro`...) and unsafe calls.
StrictUndefined turns a field the context lacks into an error, never a silent gap.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from jinja2 import StrictUndefined
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from mailservice.errors import TemplateError
from mailservice.outbound.headers import clean_header_value
from mailservice.templating.text import html_to_text

log = logging.getLogger(__name__)

HTML_ENV = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)
TEXT_ENV = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)


@lru_cache(maxsize=512)
def _compiled(kind: str, version_id: int | None, source: str, html: bool):
    # version_id is part of the key so an edit (a new version) compiles anew on
    # every worker; the source keeps unsaved previews apart.
    env = HTML_ENV if html else TEXT_ENV
    return env.from_string(source)


def render_source(
    source: str, context: dict, *, html: bool, what: str, version_id: int | None = None
) -> str:
    """Render one template source; any error becomes a TemplateError naming `what`."""
    try:
        return _compiled(what, version_id, source, html).render(context)
    except JinjaError as exc:
        line = template_line(exc)
        where = f" line {line}" if line else ""
        raise TemplateError(f"{what}{where}: {exc.message or exc}") from exc


def template_line(exc: BaseException) -> int | None:
    """The template line an error happened on: Jinja keeps template line numbers
    in the traceback frames it names "<template>"."""
    line = getattr(exc, "lineno", None)
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def render_subject(source: str, context: dict, version_id: int | None = None) -> str:
    """The subject line: rendered as text, line breaks from field values removed."""
    text = render_source(
        source, context, html=False, what="subject", version_id=version_id
    )
    return clean_header_value(" ".join(text.split()), field="subject")


def render_body(
    source: str, context: dict, version_id: int | None = None
) -> tuple[str, str]:
    """(html, text) of a body template: the text part generated from the HTML."""
    html = render_source(source, context, html=True, what="body", version_id=version_id)
    return html, html_to_text(html)


def render_signature(
    html_source: str, text_source: str, context: dict, version_id: int | None = None
) -> tuple[str, str]:
    """(html, text) of a signature; an empty text source is generated from the HTML."""
    html = render_source(
        html_source, context, html=True, what="signature HTML", version_id=version_id
    )
    if not text_source.strip():
        return html, html_to_text(html)
    text = render_source(
        text_source, context, html=False, what="signature text", version_id=version_id
    )
    return html, text

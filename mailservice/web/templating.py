"""The Jinja2 environment of the UI: autoescaped, with per-request translations."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATE_DIR = Path(__file__).parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The shared environment; gettext and formats come with each render's context."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        # Every value from mail (names, subjects, file names) is escaped unless
        # a template marks it safe, which only sanitiser output ever is.
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.newstyle_gettext = True
    env.filters["query"] = lambda params: urlencode(
        {k: v for k, v in params.items() if v not in (None, "", False)}
    )
    return env

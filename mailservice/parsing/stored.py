"""Parsing a stored raw message in a worker process: never raises, always answers.

Kept apart so a worker process imports the parser alone, not the database layer.
"""

from __future__ import annotations

from mailservice.errors import MessageParseError
from mailservice.parsing.body import ParsedBody, parse_body

MISSING = "raw message missing from the store"


def parse_stored(path: str) -> ParsedBody | str:
    """The parsed body of the file at `path`, else why not (MISSING: no such file)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return MISSING
    try:
        return parse_body(raw)
    except MessageParseError as exc:
        return str(exc)
    except Exception as exc:  # a parser bug must not stop the run or lose mail
        return f"parser failed: {type(exc).__name__}: {exc}"[:1000]

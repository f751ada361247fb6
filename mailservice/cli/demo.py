"""`mailservice demo ...` commands."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the demo commands to the top-level group."""
    # TODO: being written; the demo commands are not registered yet.

"""`mailservice stats ...` commands."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the stats commands to the top-level group."""
    # TODO: being written; the stats commands are not registered yet.

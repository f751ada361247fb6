"""`mailservice contacts ...` commands."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the contacts commands to the top-level group."""
    # TODO: being written; the contacts commands are not registered yet.

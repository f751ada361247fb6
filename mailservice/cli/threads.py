"""`mailservice threads ...` commands."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the threads commands to the top-level group."""
    # TODO: being written; the threads commands are not registered yet.

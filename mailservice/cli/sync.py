"""`mailservice sync ...` commands."""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the sync commands to the top-level group."""
    # TODO: being written; the sync commands are not registered yet.

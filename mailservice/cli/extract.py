"""`mailservice extract`: bodies and attachments of synced messages, for search."""

from __future__ import annotations

import click

from mailservice.cli import context
from mailservice.messages.extract import ExtractCounts, extract_pending


def register(cli: click.Group) -> None:
    """Add the extract command to the top-level group."""
    cli.add_command(extract_command)


@click.command("extract")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Stop after this many messages (default: all pending).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Parsing processes (default: one per core).")
def extract_command(limit: int | None, workers: int | None) -> None:
    """Extract bodies and attachments of messages synced from headers only."""
    with context.user_errors():
        counts = extract_pending(context.settings(), limit=limit, workers=workers,
                                 progress=_show_progress)
    click.echo(f"\r{_line(counts)}", err=True)
    click.echo(f"parsed {counts.parsed}, quarantined {counts.quarantined}, "
               f"raw missing {counts.missing_raw}")


def _show_progress(counts: ExtractCounts) -> None:
    click.echo(f"\r{_line(counts)}", nl=False, err=True)


def _line(counts: ExtractCounts) -> str:
    return (f"extracted {counts.done} messages "
            f"({counts.quarantined} quarantined, {counts.missing_raw} without raw)")

"""`mailservice stats`: counts over everything synced."""

from __future__ import annotations

import json

import click

from mailservice.cli.context import db_session, user_errors
from mailservice.stats import collect_stats


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on one line.")
def stats_command(as_json: bool) -> None:
    """Show how many folders, messages, threads and links there are."""
    with user_errors(), db_session() as session:
        stats = collect_stats(session)
    if as_json:
        click.echo(json.dumps(stats, sort_keys=True))
        return
    width = max(len(key) for key in stats)
    for key, value in stats.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value:>10,}")


def register(cli: click.Group) -> None:
    """Add the stats command to the top-level group."""
    cli.add_command(stats_command)

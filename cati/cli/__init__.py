"""The `cati` command: one group, a sub-command per task."""

from __future__ import annotations

import click

from cati.cli.cases import cases
from cati.cli.common import get_runtime
from cati.cli.dial import dial, reap, simulate
from cati.cli.flows import flows
from cati.cli.followups import followups, offices
from cati.cli.kiosks import kiosks
from cati.cli.members import members
from cati.cli.optout import optout
from cati.cli.report import export, report
from cati.cli.rounds import rounds
from cati.cli.scheduler import scheduler
from cati.cli.users import users


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cati")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Telephone follow-up surveys of citizens served by one-stop offices.

    Settings come from environment variables (CATI_DATABASE_URL, CATI_TIMEZONE, …); see the
    README. Start with `cati db upgrade`: the commands that use the database need it migrated.
    """
    if ctx.obj is None:  # a caller passing its own runtime (the tests) keeps its logging
        _configure_logging()


def _configure_logging() -> None:
    """Log lines in CATI_LOG_FORMAT for every command (`cati serve`, `cati scheduler`, …)."""
    from cati.config import Settings, SettingsError
    from cati.logs import configure_logging

    try:
        settings = Settings.from_env()
    except SettingsError:
        return  # the command reports the bad setting when it reads its settings
    configure_logging(settings)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (creates the SQLite file and folder if needed).

    Every other command that uses the database refuses one that is missing or behind (exit 2).
    """
    from cati.migrate import display_url, upgrade

    runtime = get_runtime(database=False)
    upgrade(runtime.settings.database_url)
    click.echo(f"database {display_url(runtime.settings.database_url)} is up to date")


@main.command()
@click.option(
    "--ago",
    default=0,
    show_default=True,
    type=click.IntRange(0, 520),
    help="Weeks before the current one; 1 is the last complete week.",
)
def week(ago: int) -> None:
    """Print the current ISO week in CATI_TIMEZONE, or the one --ago N weeks before it.

    The last complete week is the one to sample:

    \b
        cati rounds sample --week "$(cati week --ago 1)"
    """
    from cati.domain.weeks import IsoWeek

    runtime = get_runtime(database=False)
    current = IsoWeek.containing(runtime.clock(), runtime.settings.timezone)
    click.echo(str(current.shifted(-ago)))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the web application (development and small installations)."""
    from cati.web import create_app

    create_app(get_runtime()).run(host=host, port=port)


main.add_command(cases)
main.add_command(dial)
main.add_command(export)
main.add_command(flows)
main.add_command(followups)
main.add_command(kiosks)
main.add_command(members)
main.add_command(offices)
main.add_command(optout)
main.add_command(reap)
main.add_command(report)
main.add_command(rounds)
main.add_command(scheduler)
main.add_command(simulate)
main.add_command(users)

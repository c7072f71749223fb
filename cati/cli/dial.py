"""`cati dial`: call the due members of a round."""

from __future__ import annotations

import time

import click

from cati.cli.common import get_runtime
from cati.config import SettingsError
from cati.jobs.dialing import DialerError, dial_pass
from cati.models import Round
from cati.telephony import make_provider


@click.command()
@click.option("--round", "round_id", required=True, type=int, help="The round to dial.")
@click.option("--once", is_flag=True, help="One pass: place every call due now, then exit.")
def dial(round_id: int, once: bool) -> None:
    """Place the calls that are due, within calling hours and the provider's limits.

    Without --once the command keeps dialing (waiting while the concurrency limit is reached)
    until no member is due.
    """
    runtime = get_runtime()
    with runtime.transaction() as session:
        if session.get(Round, round_id) is None:
            raise click.BadParameter(f"no round with id {round_id}", param_hint="--round")
    try:
        provider = make_provider(runtime.settings)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    totals = {"placed": 0, "invalid_numbers": 0, "deferred": 0}
    try:
        while True:
            report = dial_pass(runtime, provider, round_id)
            for key in totals:
                totals[key] += getattr(report, key)
            if once or not report.at_capacity:
                break
            time.sleep(1.0)
    except DialerError as exc:
        click.echo(f"error: the provider refuses our calls: {exc}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"round {round_id}: {totals['placed']} calls placed, "
        f"{totals['invalid_numbers']} invalid numbers, {totals['deferred']} deferred"
    )

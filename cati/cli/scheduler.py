"""`cati scheduler`: run the jobs (or stand by), and `cati scheduler status`."""

from __future__ import annotations

import signal
import threading

import click

from cati.cli.common import echo_json, get_runtime
from cati.config import SettingsError


@click.group(invoke_without_command=True)
@click.pass_context
def scheduler(ctx: click.Context) -> None:
    """Run the scheduler: weekly sampling, dialing, reaping, round closing, retention.

    \b
    Jobs (local time, CATI_TIMEZONE):
      sampling   CATI_SAMPLING_CRON (Mondays 07:00), checked hourly too: last week's round
                 of each flow in CATI_SAMPLING_FLOWS, with CATI_SAMPLING_RATE or _SIZE,
                 _MIN_PER_OFFICE, _MODE
      dialing    every CATI_DIAL_INTERVAL_S seconds (30), inside calling hours
      reaping    every CATI_REAP_INTERVAL_S seconds (60): stuck calls, expired console leases
      closing    as often: rounds past their calling period (CATI_ROUND_CALLING_DAYS, 14,
                 after their week, or after sampling if later) get final dispositions and
                 are closed
      retention  CATI_RETENTION_CRON (02:30 daily): erase names, numbers and recordings
                 CATI_RETENTION_DAYS (180) days after a round closed
      heartbeat  every CATI_SCHEDULER_HEARTBEAT_S seconds (10)

    Start it once per installation as a service of its own; further copies on the same
    database stand by and take over when the leader dies. SIGTERM (or Ctrl-C) stops it after
    the job running at that moment. With CATI_TELEPHONY=simulated, simulated citizens answer
    the calls through the web server at CATI_PUBLIC_URL.
    """
    if ctx.invoked_subcommand is not None:
        return
    from cati.jobs.scheduler import SchedulerNode
    from cati.services.flows import load_flows
    from cati.telephony import make_provider

    runtime = get_runtime()
    settings = runtime.settings
    unknown = sorted(set(settings.sampling_flows) - set(load_flows(settings.flows_dir)))
    if unknown:
        raise click.UsageError(
            f"CATI_SAMPLING_FLOWS: no flow named {', '.join(unknown)} in {settings.flows_dir}"
        )
    try:
        provider = make_provider(settings)
    except SettingsError as exc:
        raise click.UsageError(str(exc)) from None
    from cati.simulator import AnsweringCitizens

    if settings.telephony == "simulated":
        provider = AnsweringCitizens(settings.webhook_token)
    try:
        node = SchedulerNode(runtime, provider)
    except ValueError as exc:
        raise click.UsageError(f"CATI_DATABASE_URL: {exc}") from None
    stop = node.stop

    def on_signal(signum, _frame):
        click.echo(f"{signal.Signals(signum).name}: stopping after the running job", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    click.echo(f"scheduler {node.me.id} started (stands by until it holds the lead)", err=True)
    worker = threading.Thread(target=node.run, name="scheduler")
    worker.start()
    while worker.is_alive():  # the main thread stays free to take signals
        worker.join(0.5)
    if isinstance(provider, AnsweringCitizens):
        provider.close()
    click.echo("scheduler stopped", err=True)


@scheduler.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def status(as_json: bool) -> None:
    """Who leads (host, pid, since), who stands by, and each job's last and next run and
    last result. Exits 1 when no scheduler leads."""
    from cati.services.scheduler import JOB_NAMES, scheduler_status

    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        data = scheduler_status(
            session, now=runtime.clock(), heartbeat_s=settings.heartbeat_s, job_names=JOB_NAMES
        )
    if as_json:
        echo_json(data)
    else:
        _print_status(data, settings.timezone)
    if data["leader"] is None:
        raise SystemExit(1)


def _print_status(data: dict, tz) -> None:
    from datetime import datetime

    def local(iso: str | None) -> str:
        if iso is None:
            return "-"
        return f"{datetime.fromisoformat(iso).astimezone(tz):%d/%m/%Y %H:%M:%S}"

    leader = data["leader"]
    if leader is None:
        click.echo("leader: none (no scheduler is running the jobs)")
    else:
        click.echo(f"leader: {leader['host']} pid {leader['pid']} since {local(leader['since'])}")
    for standby in data["standbys"]:
        click.echo(
            f"standby: {standby['host']} pid {standby['pid']} since {local(standby['since'])}"
        )
    click.echo(f"{'job':<10} {'last run':<19}  {'next run':<19}  last result")
    for job in data["jobs"]:
        click.echo(
            f"{job['name']:<10} {local(job['last_run_at']):<19}  "
            f"{local(job['next_run_at']):<19}  {job['last_result'] or '-'}"
        )

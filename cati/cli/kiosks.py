"""`cati kiosks`: counter tablets, the offices' QR posters, accepting flagged ratings."""

from __future__ import annotations

from pathlib import Path

import click

from cati.cli.common import echo_json, get_runtime
from cati.cli.output import check_output, fail, written_atomically


@click.group()
def kiosks() -> None:
    """Counter ratings: tablets at the desk (/k/…) and the offices' QR codes (/q/…).

    They are self-selected, not a sample: `cati report --weeks` shows them apart
    (`self_selected`), never in AAPOR rates."""


@kiosks.command("add")
@click.argument("office_code")
@click.option("--name", help="What the tablet is called, e.g. 'Quầy 2'.")
@click.option("--json", "as_json", is_flag=True, help='Print {"id", "office_code", "url"}.')
def kiosks_add(office_code: str, name: str | None, as_json: bool) -> None:
    """Register a tablet at the office's desk and print its URL {CATI_PUBLIC_URL}/k/<token>.

    Open it on the tablet: no login, the token is the credential. It is shown only now
    (only a hash is kept); a lost URL means disabling the kiosk and adding another."""
    from cati.services.counter import CounterError, add_kiosk, kiosk_url

    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            kiosk, token = add_kiosk(session, office_code, name, runtime.clock())
        except CounterError as exc:
            raise click.BadParameter(str(exc), param_hint="OFFICE_CODE") from None
        kiosk_id = kiosk.id
    url = kiosk_url(runtime.settings.public_url, token)
    if as_json:
        echo_json({"id": kiosk_id, "office_code": office_code, "url": url})
    else:
        click.echo(f"kiosk {kiosk_id} of {office_code}: {url}")


@kiosks.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def kiosks_list(as_json: bool) -> None:
    """The kiosks: id, office, name, active or not, ratings given there."""
    from cati.services.counter import list_kiosks

    runtime = get_runtime()
    with runtime.transaction() as session:
        rows = list_kiosks(session)
    tz = runtime.settings.timezone
    if as_json:
        echo_json([{**r, "created_at": r["created_at"].isoformat()} for r in rows])
        return
    for r in rows:
        state = "active" if r["active"] else "disabled"
        created = r["created_at"].astimezone(tz).strftime("%d/%m/%Y")
        click.echo(f"{r['id']}\t{r['office_code']}\t{r['name'] or '-'}\t{state}\t"
                   f"{created}\t{r['ratings']} ratings")  # fmt: skip


@kiosks.command("disable")
@click.argument("kiosk_id", type=int)
def kiosks_disable(kiosk_id: int) -> None:
    """Stop a kiosk: its URL shows "not found" from now on (its ratings are kept)."""
    from cati.services.counter import CounterError, disable_kiosk

    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            disable_kiosk(session, kiosk_id)
        except CounterError as exc:
            raise click.BadParameter(str(exc), param_hint="ID") from None
    click.echo(f"kiosk {kiosk_id} disabled")


@kiosks.command("poster")
@click.argument("office_code")
@click.option("--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The PDF file to write.")  # fmt: skip
def kiosks_poster(office_code: str, output: Path) -> None:
    """Write an A4 poster for the office's desk: the QR code of its rating page
    {CATI_PUBLIC_URL}/q/<token>, on the citizen's own phone (mode qr). The same office
    always gets the same code (with the same CATI_SECRET_KEY)."""
    from cati.services.counter import CounterError, office_token, qr_url
    from cati.services.poster import poster_pdf

    check_output(output, binary=True)
    runtime = get_runtime()
    settings = runtime.settings
    with runtime.transaction() as session:
        try:
            office, token = office_token(
                session, office_code, settings.resolve_secret_key(), runtime.clock()
            )
        except CounterError as exc:
            if "no office" in str(exc):
                raise click.BadParameter(str(exc), param_hint="OFFICE_CODE") from None
            fail(str(exc))
        name = office.name or office.code
    url = qr_url(settings.public_url, token)
    data = poster_pdf(name, url, settings.organisation)
    with written_atomically(output) as handle:
        handle.write(data)
    click.echo(f"poster of {office_code} written to {output}: {url}")


@kiosks.command("accept")
@click.argument("rating_id", type=int)
@click.option("--by", default="manager", show_default=True, help="Who accepts it.")
def kiosks_accept(rating_id: int, by: str) -> None:
    """Count a flagged counter rating in its office's figures after all."""
    from cati.services.counter import CounterError, accept_rating

    runtime = get_runtime()
    with runtime.transaction() as session:
        try:
            rating = accept_rating(session, rating_id, by, runtime.clock())
        except CounterError as exc:
            raise click.BadParameter(str(exc), param_hint="RATING_ID") from None
        flags = rating.flags
    click.echo(f"counter rating {rating_id} accepted (flags: {flags or 'none'})")


@kiosks.command("flagged")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def kiosks_flagged(as_json: bool) -> None:
    """The flagged counter ratings not yet accepted: id, office, mode, when, flags."""
    from sqlalchemy import select

    from cati.models import CounterRating, Office

    runtime = get_runtime()
    tz = runtime.settings.timezone
    with runtime.transaction() as session:
        rows = session.execute(
            select(CounterRating.id, Office.code, CounterRating.mode, CounterRating.started_at,
                   CounterRating.flags)
            .join(Office, Office.id == CounterRating.office_id)
            .where(CounterRating.flags.is_not(None), CounterRating.accepted_by.is_(None))
            .order_by(CounterRating.id)
        ).all()  # fmt: skip
    items = [{"id": i, "office_code": c, "mode": m,
              "started_at": s.astimezone(tz).isoformat(), "flags": f.split(",")}
             for i, c, m, s, f in rows]  # fmt: skip
    if as_json:
        echo_json(items)
        return
    for item in items:
        click.echo(f"{item['id']}\t{item['office_code']}\t{item['mode']}\t"
                   f"{item['started_at']}\t{','.join(item['flags'])}")  # fmt: skip

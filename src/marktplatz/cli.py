"""The `marktplatz` command: serve, migrate, demo, create-user, check, purge, rollup, report,
simulate."""

from __future__ import annotations

import asyncio
import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from marktplatz.bootstrap import build, migrate_database
from marktplatz.domain.errors import DomainError, InvalidInput
from marktplatz.services import accounts, demo
from marktplatz.settings import Settings, settings_documentation

app = typer.Typer(
    help="Marktplatz — the open touchpoint platform for a city centre.",
    no_args_is_help=True,
    add_completion=False,
)

DEMO_OWNER_SHOP = "optik-brillenhaus-krueger"


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        typer.secho(f"Configuration error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (idempotent)."""
    settings = _settings()
    migrate_database(settings)
    typer.echo(f"Database is up to date: {_safe_url(settings.effective_database_url)}")


@app.command("demo")
def load_demo() -> None:
    """Load the demo city "Musterstadt" (fictional); prints the demo passwords once."""
    settings = _settings()
    migrate_database(settings)
    data = json.loads(resources.files("marktplatz").joinpath("data/musterstadt.json").read_text())
    result = asyncio.run(
        _with_app(settings, lambda ctx: demo.load_demo(ctx, data, _owner_shop(data)))
    )
    if not result.created:
        typer.echo(f"Demo city '{result.city_slug}' is already loaded; nothing changed.")
        return
    typer.echo(
        f"Loaded demo city '{result.city_slug}': {result.shops} shops, {result.zones} "
        f"zones, {result.touchpoints} touchpoints."
    )
    typer.echo("Demo accounts (passwords are shown only now):")
    for account in result.accounts:
        shop = f" ({account.shop_slug})" if account.shop_slug else ""
        typer.echo(f"  {account.role:15} {account.email:32} {account.password}{shop}")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="E-mail address used to log in.")],
    role: Annotated[
        str, typer.Option(help="city-admin, city-editor, retailer-owner or retailer-staff.")
    ],
    city: Annotated[str, typer.Option(help="Short name (slug) of the city.")],
    shop: Annotated[str | None, typer.Option(help="Shop slug, for retailer roles.")] = None,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            help="Password; asked for when not given.",
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
        ),
    ] = None,
) -> None:
    """Create a user with one role in a city or one of its shops."""
    settings = _settings()
    try:
        user = asyncio.run(
            _with_app(
                settings,
                lambda ctx: accounts.create_user(
                    ctx,
                    email=email,
                    password=password or "",
                    display_name=name or email,
                    role=role,
                    city_slug=city,
                    shop_slug=shop,
                ),
            )
        )
    except InvalidInput as exc:
        typer.secho(
            f"{exc.field}: {exc.message % dict(exc.params) if exc.params else exc.message}",
            fg="red",
            err=True,
        )
        raise typer.Exit(1) from exc
    except DomainError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Created {user.email} as {role}.")


@app.command()
def check() -> None:
    """Check the configuration and the database; exit 1 if something is wrong."""
    settings = _settings()
    typer.echo(f"environment: {settings.environment.value}")
    typer.echo(f"database:    {_safe_url(settings.effective_database_url)}")
    try:
        asyncio.run(_with_app(settings, _db_ok))
    except Exception as exc:
        typer.secho(
            f"database:    NOT OK ({type(exc).__name__}) — run `marktplatz migrate`?",
            fg="red",
            err=True,
        )
        raise typer.Exit(1) from exc
    typer.echo("database:    ok")
    undocumented = [n for n, _, h in settings_documentation() if not h]
    if undocumented:
        typer.secho(f"undocumented settings: {', '.join(undocumented)}", fg="red", err=True)
        raise typer.Exit(1)
    typer.echo("settings:    ok")


@app.command()
def purge() -> None:
    """Delete expired pseudonymous events and daily salts, unlink expired coupons from their
    visitors, once (serve does it every hour)."""
    from marktplatz.services import retention

    settings = _settings()
    migrate_database(settings)
    result = asyncio.run(_with_app(settings, retention.purge))
    typer.echo(
        f"Purged {result.events} events and {result.salts} daily salts; "
        f"unlinked {result.coupons} coupons from their visitors."
    )


@app.command()
def rollup(
    city: Annotated[
        str | None, typer.Option(help="Backfill this city (its slug); needs --start and --end.")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Backfill from this time on (ISO 8601 with an offset).")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Backfill up to this time (ISO 8601 with an offset).")
    ] = None,
) -> None:
    """Fill the hourly rollups up to the last closed hour (serve does it every five minutes),
    or recompute a range of one city from its raw events (a backfill gives the same rows)."""
    from marktplatz.services import rollups

    settings = _settings()
    migrate_database(settings)
    if city is None and start is None and end is None:
        run = asyncio.run(_with_app(settings, _rollups_until_current))
        typer.echo(f"Filled {run.filled} hours, redid {run.redone}, computed {run.days} days.")
        return
    if city is None or start is None or end is None:
        typer.secho("A backfill needs --city, --start and --end.", fg="red", err=True)
        raise typer.Exit(2)
    begin, stop = _moment(start, "--start"), _moment(end, "--end")
    try:
        done = asyncio.run(
            _with_app(settings, lambda ctx: rollups.backfill(ctx, city, begin, stop))
        )
    except InvalidInput as exc:
        typer.secho(exc.message % dict(exc.params), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Recomputed {done.hours} hours and {done.days} days of {city}.")


async def _rollups_until_current(ctx: Any) -> Any:
    from marktplatz.services import rollups

    total = rollups.RollupRun()
    while True:
        run = await rollups.run_rollups(ctx)
        total.filled, total.redone, total.days = (
            total.filled + run.filled, total.redone + run.redone, total.days + run.days
        )  # fmt: skip
        if not run.behind:
            return total


def _moment(value: str, option: str) -> Any:
    from datetime import datetime

    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        typer.secho(f"{option}: not an ISO 8601 time: {value}", fg="red", err=True)
        raise typer.Exit(2) from exc
    if moment.tzinfo is None:
        typer.secho(f"{option}: give the time with an offset, e.g. +01:00", fg="red", err=True)
        raise typer.Exit(2)
    return moment


@app.command()
def report(
    city: Annotated[str, typer.Option(help="Short name (slug) of the city.")] = "musterstadt",
    month: Annotated[
        str | None, typer.Option(help="The month, e.g. 2026-11; default: the last full month.")
    ] = None,
    shop: Annotated[str | None, typer.Option(help="Only this shop (its slug).")] = None,
    language: Annotated[str, typer.Option(help="de or en.")] = "de",
    out: Annotated[Path, typer.Option(help="Folder to write the PDF files to.")] = Path("reports"),
) -> None:
    """Write each shop's monthly report as a PDF (or one shop's): its offers and stories shown,
    opened, saved and redeemed, against the month before and its category."""
    from marktplatz.catalogues import LANGUAGES, translations
    from marktplatz.services import reports

    if language not in LANGUAGES:
        typer.secho(f"--language: one of {', '.join(LANGUAGES)}", fg="red", err=True)
        raise typer.Exit(2)
    settings = _settings()
    migrate_database(settings)
    t = translations(language).gettext
    try:
        files = asyncio.run(
            _with_app(
                settings, lambda ctx: reports.city_reports(ctx, city, month, shop, language, t)
            )
        )
    except InvalidInput as exc:
        typer.secho(t(exc.message) % dict(exc.params), fg="red", err=True)
        raise typer.Exit(1) from exc
    out.mkdir(parents=True, exist_ok=True)
    for name, pdf in files:
        (out / name).write_bytes(pdf)
    typer.echo(f"Wrote {len(files)} reports to {out}/.")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL only).")] = 1,
) -> None:
    """Run the web server (migrates the database first)."""
    import uvicorn

    settings = _settings()
    migrate_database(settings)
    uvicorn.run(
        "marktplatz.web.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        # uvicorn's httptools protocol, with an answer's headers and body sent in one write
        # (an import string, as for the app: the entry points do not import each other).
        http="marktplatz.web.protocol:CorkedHttpToolsProtocol",
        proxy_headers=True,
        access_log=False,
    )


@app.command()
def simulate(
    visitors: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Visitors to simulate.")
    ] = 100,
    days: Annotated[
        int,
        typer.Option(
            min=1,
            max=7,
            help="Spread the visits over this many days up to now; at most 7, because the "
            "server refuses events older than seven days.",
        ),
    ] = 1,
    rate: Annotated[
        float | None, typer.Option(min=0.1, help="Send at most this many events per second.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Same seed, same journeys (random when not given).")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option(help="Server to send to; default: the base_url setting.")
    ] = None,
    city: Annotated[str, typer.Option(help="Short name (slug) of the city.")] = "musterstadt",
    without_consent: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="Share of visitors who never consent (no pseudonym)."),
    ] = 0.3,
    admin_email: Annotated[
        str | None,
        typer.Option(
            help="City admin whose login lists the touchpoints; without it no beacon "
            "contacts or QR scans are sent (their ids and codes are not public)."
        ),
    ] = None,
    admin_password: Annotated[
        str | None,
        typer.Option(envvar="MARKTPLATZ_SIMULATE_ADMIN_PASSWORD", help="That admin's password."),
    ] = None,
    cashier_email: Annotated[
        str | None,
        typer.Option(
            help="Staff of a shop (retailer-staff) who redeems a share of the coupons saved "
            "for that shop; without it coupons are only saved."
        ),
    ] = None,
    cashier_password: Annotated[
        str | None,
        typer.Option(envvar="MARKTPLATZ_SIMULATE_CASHIER_PASSWORD", help="The cashier's password."),
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight.")] = 4,
    journal: Annotated[
        Path | None, typer.Option(help="Write every event sent as a JSON line to this file.")
    ] = None,
) -> None:
    """Send simulated visitor journeys to a running server over HTTP (demo data and load).

    Visits from the sofa, walks along the beacon mile, QR/NFC scans, shop views and saves.

    At scans and stops the phone asks POST /decide and saves some of the coupons offered.

    With --cashier-email, a shop's staff redeems a share of the coupons of that shop.

    Touchpoint ids and QR codes are not public: contacts, scans and coupons need an admin login.

    Consenting visitors get a random id only when the server offers the consent API.

    Events carry past times over --days; saves and redemptions come last and happen now.
    """
    from marktplatz import simulator  # needs httpx, which only this command uses

    options = simulator.Options(
        base_url=base_url or _settings().base_url,
        city=city,
        visitors=visitors,
        days=days,
        rate=rate,
        seed=seed,
        without_consent=without_consent,
        admin_email=admin_email,
        admin_password=admin_password,
        cashier_email=cashier_email,
        cashier_password=cashier_password,
        concurrency=concurrency,
        journal=journal,
    )
    try:
        summary = asyncio.run(simulator.simulate(options))
    except simulator.SimulationError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    for line in summary.lines():
        typer.echo(line)
    if not summary.ok:
        raise typer.Exit(1)


async def _db_ok(ctx: Any) -> None:
    del ctx


async def _with_app(settings: Settings, use: Any) -> Any:
    composed = build(settings)
    try:
        if use is _db_ok:
            await composed.database_ok()
            return None
        return await use(composed.ctx)
    finally:
        await composed.close()


@app.command("import-footfall")
def import_footfall(
    file: Annotated[Path, typer.Argument(help="CSV export of the people counters.")],
    city: Annotated[str, typer.Option(help="Short name (slug) of the city.")],
    as_user: Annotated[
        str, typer.Option("--as", help="E-mail of the city staff account the import is made as.")
    ],
    dry_run: Annotated[bool, typer.Option(help="Only check the file; store nothing.")] = False,
) -> None:
    """Import hourly people counts (hystreet or open-data CSV); every problem is printed by row
    and nothing is stored unless the whole file is clean."""
    from marktplatz.domain.footfall_csv import MAX_BYTES
    from marktplatz.services import footfall

    settings = _settings()
    migrate_database(settings)
    with file.open("rb") as source:
        data = source.read(MAX_BYTES + 1)
    try:
        plan = asyncio.run(
            _with_app(
                settings,
                lambda ctx: footfall.import_footfall_as(ctx, as_user, city, data, dry_run=dry_run),
            )
        )
    except footfall.FootfallRefused as exc:
        _print_problems(exc.problems)
    except DomainError as exc:
        typer.secho(f"Refused: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    _print_problems(plan.problems)
    if plan.encoding == "cp1252":
        typer.echo("The file is not UTF-8; it was read as Windows-1252.")
    verb = "Would import" if dry_run else "Imported"
    typer.echo(f"{verb} {plan.rows} rows: {plan.new} new hours, {plan.stored} already stored.")


def _print_problems(problems: list[Any]) -> None:
    """Each problem on a line of its own, then exit 1; nothing for a clean file."""
    if not problems:
        return
    for problem in problems:
        where = f"row {problem.row}" if problem.row else "file"
        column = f", {problem.column}" if problem.column else ""
        text = problem.message % problem.params if problem.params else problem.message
        typer.echo(f"{where}{column}: {text}", err=True)
    typer.secho(f"{len(problems)} problems; nothing was imported.", fg="red", err=True)
    raise typer.Exit(1)


def _owner_shop(data: dict[str, Any]) -> str:
    slugs = [s["slug"] for s in data["shops"]]
    return DEMO_OWNER_SHOP if DEMO_OWNER_SHOP in slugs else slugs[0]


def _safe_url(url: str) -> str:
    """The database URL without its password (secrets never reach logs)."""
    if "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def main() -> None:
    app()

"""Commands: ``flask --app wsgi <command>``."""

from __future__ import annotations

import click
from flask import Flask, current_app

from escalation import outbox
from escalation.config import Settings


def register_commands(app: Flask) -> None:
    app.cli.add_command(migrate_command)
    app.cli.add_command(worker_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(relay_command)
    app.cli.add_command(demo_command)
    app.cli.add_command(simulate_call_command)
    app.cli.add_command(reconcile_command)
    app.cli.add_command(import_directory_command)


def _app() -> Flask:
    """The app itself, not the proxy: the worker and the server outlive a context."""
    return current_app._get_current_object()  # type: ignore[attr-defined]


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


@click.command("migrate")
def migrate_command() -> None:
    """Bring the database to the newest schema."""
    from escalation.migrate import upgrade

    upgrade(_settings().database_url)
    click.echo("database is up to date")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool) -> None:
    """Run jobs (RQ worker with its scheduler) and relay the outbox."""
    from escalation.worker import run_worker

    run_worker(_app(), burst=burst)


@click.command("serve")
@click.option("--host", default="127.0.0.1", envvar="HOST", show_default=True)
@click.option("--port", default=8000, envvar="PORT", show_default=True)
def serve_command(host: str, port: int) -> None:
    """Migrate, then run Redis (embedded if REDIS_URL is unset), web and worker."""
    from escalation.serve import serve

    raise SystemExit(serve(_app(), host, port))


@click.command("relay-outbox")
def relay_command() -> None:
    """Send waiting outbox entries to the queue once."""
    from escalation.queue import make_queue

    app = current_app
    sent = outbox.relay(app.extensions["escalation.db"], make_queue(_settings()))
    click.echo(f"relayed {sent} outbox entries")


@click.command("demo")
@click.option(
    "--url", default="http://127.0.0.1:8000", envvar="DEMO_URL", show_default=True
)
def demo_command(url: str) -> None:
    """Play a call and a portal ticket at a running service, as Twilio would."""
    from escalation.demo import run_demo

    raise SystemExit(run_demo(_settings(), url))


@click.command("simulate-call")
@click.option("--from", "caller", default="+31612345678", show_default=True)
@click.option(
    "--keys",
    multiple=True,
    help="What the caller types at each keypad prompt, e.g. --keys 48213 "
    "(repeat for each prompt; an empty value is silence).",
)
@click.option(
    "--dial-status",
    default="completed",
    show_default=True,
    type=click.Choice(["completed", "no-answer", "busy", "failed"]),
    help="How forwarding to the engineer on duty ends.",
)
@click.option(
    "--url", default="http://127.0.0.1:8000", envvar="DEMO_URL", show_default=True
)
def simulate_call_command(
    caller: str, keys: tuple[str, ...], dial_status: str, url: str
) -> None:
    """Play a whole call at a running service and print what the caller hears."""
    from escalation.simulator import (
        CallScript,
        SimulationError,
        TwilioSigner,
        simulate_call,
    )

    settings = _settings()
    signer = TwilioSigner(url, settings.twilio_auth_token, settings.public_base_url)
    script = CallScript(
        caller=caller,
        support_number=settings.support_number,
        keypad=list(keys),
        dial_status=dial_status,
    )
    try:
        simulate_call(signer, script, echo=click.echo)
    except (SimulationError, OSError) as exc:
        raise click.ClickException(f"{exc} (is the service running at {url}?)") from exc


@click.command("reconcile")
def reconcile_command() -> None:
    """Pull the tickets changed in the portal since the last pull, now."""
    from escalation.errors import ConfigError, PortalError
    from jobs.portal import reconcile_now

    app = current_app
    try:
        report = reconcile_now(app.extensions["escalation.db"], _settings())
    except (ConfigError, PortalError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"reconciled {report.summary()}")


@click.command("import-directory")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_directory_command(path: str) -> None:
    """Import contacts and company lines from a CSV file (see docs/portal.md).

    Exits with status 1 when any row was rejected.
    """
    from escalation.directory import import_directory
    from escalation.errors import InvalidDirectory

    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            text = file.read()
        report = import_directory(
            current_app.extensions["escalation.db"], text, _settings().default_region
        )
    except (InvalidDirectory, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc

    click.echo(
        f"accepted {report.accepted} rows ({report.contacts} contacts, "
        f"{report.company_lines} company lines)"
    )
    click.echo(f"rejected {len(report.rejected)} rows")
    for rejected in report.rejected:
        click.echo(f"  line {rejected.line}: {rejected.reason}")
    if report.rejected:
        raise SystemExit(1)

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

    run_worker(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]


@click.command("serve")
@click.option("--host", default="127.0.0.1", envvar="HOST", show_default=True)
@click.option("--port", default=8000, envvar="PORT", show_default=True)
def serve_command(host: str, port: int) -> None:
    """Migrate, then run Redis (embedded if REDIS_URL is unset), web and worker."""
    from escalation.serve import serve

    raise SystemExit(serve(current_app._get_current_object(), host, port))  # type: ignore[attr-defined]


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

"""RQ jobs. Every job runs one outbox entry, in one transaction.

The entry's effect and its ``done_at`` commit together, so a job that runs
twice (a relay resent it, a worker died after the commit) does nothing the
second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation.config import Settings
from escalation.db import Database, utcnow
from escalation.models import OutboxEntry
from jobs import evaluate

logger = logging.getLogger(__name__)

Task = Callable[..., Any]

TASKS: dict[str, Task] = {
    "evaluate_call": evaluate.evaluate_call,
    "evaluate_ticket": evaluate.evaluate_ticket,
}

_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """Run jobs against ``app`` (the worker binds the app it was started with)."""
    global _app
    _app = app


def job_app() -> Flask:
    global _app
    if _app is None:
        from escalation import create_app

        _app = create_app()
    return _app


def run_outbox_entry(entry_id: int) -> str:
    app = job_app()
    settings: Settings = app.config["SETTINGS"]
    database: Database = app.extensions["escalation.db"]

    with app.app_context(), database.transaction() as session:
        entry = _locked_entry(session, entry_id)
        if entry is None:
            logger.warning("outbox entry not found entry=%s", entry_id)
            return "missing"
        if entry.done_at is not None:
            logger.info("outbox entry already done entry=%s", entry_id)
            return "already done"

        TASKS[entry.task](session, settings, *entry.args)
        entry.done_at = utcnow()
    return "done"


def _locked_entry(session: Session, entry_id: int) -> OutboxEntry | None:
    return session.scalar(
        select(OutboxEntry).where(OutboxEntry.id == entry_id).with_for_update()
    )

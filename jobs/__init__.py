"""RQ jobs. Every job runs one outbox entry, in one transaction.

The entry's effect and its ``done_at`` commit together, so a job that runs
twice (a relay resent it, a worker died after the commit) does nothing the
second time.

Portal tasks are the exception: their effect is in another system, which
no transaction here can hold. They run outside the entry's transaction,
keep their own record of each step (see ``escalation.portal.writes``), and
the entry is marked done after they return.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from flask import Flask
from rq import Retry
from sqlalchemy.orm import Session

from escalation.config import Settings
from escalation.db import Database, locked, utcnow
from escalation.errors import PortalRetryable
from escalation.models import OutboxEntry
from jobs import evaluate, notify, portal

logger = logging.getLogger(__name__)

Task = Callable[..., Any]

TASKS: dict[str, Task] = {
    "evaluate_call": evaluate.evaluate_call,
    "evaluate_ticket": evaluate.evaluate_ticket,
    "notify": notify.notify,
    "notify_send": notify.notify_send,
}

# Each gets ``(database, settings, *args)`` and commits its own steps.
PORTAL_TASKS: dict[str, Task] = {
    "push_escalation": portal.push_escalation,
    "downgrade_unconfirmed": portal.downgrade_unconfirmed,
    "fetch_ticket": portal.fetch_ticket,
    "fetch_contact": portal.fetch_contact,
    "portal_action": portal.portal_action,
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


def run_outbox_entry(entry_id: int) -> str | Retry:
    app = job_app()
    settings: Settings = app.config["SETTINGS"]
    database: Database = app.extensions["escalation.db"]

    with app.app_context():
        with database.transaction() as session:
            entry = _locked_entry(session, entry_id)
            if entry is None:
                logger.warning("outbox entry not found entry=%s", entry_id)
                return "missing"
            if entry.done_at is not None:
                logger.info("outbox entry already done entry=%s", entry_id)
                return "already done"

            task, args = entry.task, list(entry.args)
            if task not in PORTAL_TASKS:
                TASKS[task](session, settings, *args)
                entry.done_at = utcnow()
                return "done"

        return _run_portal_task(database, settings, entry_id, task, args)


def _run_portal_task(
    database: Database, settings: Settings, entry_id: int, task: str, args: list[Any]
) -> str | Retry:
    """Run a portal task; a rate limit puts the job back after its Retry-After."""
    try:
        PORTAL_TASKS[task](database, settings, *args)
    except PortalRetryable as exc:
        if exc.retry_after is None:
            raise
        logger.info(
            "outbox entry waits for the portal's rate limit entry=%s seconds=%s",
            entry_id,
            exc.retry_after,
        )
        wait = max(1, math.ceil(exc.retry_after))
        return Retry(max=portal.RATE_LIMIT_RETRIES, interval=[wait])

    with database.transaction() as session:
        entry = _locked_entry(session, entry_id)
        if entry is not None and entry.done_at is None:
            entry.done_at = utcnow()
    return "done"


def _locked_entry(session: Session, entry_id: int) -> OutboxEntry | None:
    return locked(session, OutboxEntry, OutboxEntry.id == entry_id)

"""Jobs that talk to the portal: write decisions and leads' actions back,
fetch what events lacked, pull what webhooks missed.

Outbox tasks here get the database rather than a session (they are
``PORTAL_TASKS`` in ``jobs``): each commits its own short transactions, so
no transaction, and on SQLite no write lock, stays open while the portal
answers, and a step the portal has taken is on record before the next one.

Retrying: a 5xx, a timeout or an unreadable answer raises, and RQ's Retry
on the outbox job runs it again with backoff (10 s, 1 min, 5 min; the
worker's scheduler does that). A 429 whose Retry-After is short is waited
out in place by the client; a longer one makes the job return an RQ
``Retry`` with that interval. On the last try a write is put on record as
failed and the job ends, so nothing retries forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from rq import get_current_job

from escalation.config import Settings
from escalation.db import Database, utcnow
from escalation.errors import InvalidEvent, PortalRefused, PortalRetryable
from escalation.portal import Portal, make_portal, writes
from escalation.portal.inbound import store_ticket
from escalation.portal.reconcile import Report, reconcile
from escalation.portal_events import apply_event

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How many times a job may be put back for a rate limit before it gives up.
RATE_LIMIT_RETRIES = 24


def push_escalation(database: Database, settings: Settings, escalation_id: int) -> None:
    """Set the confirmed ticket to Urgent in the portal, with the evidence."""
    with database.transaction() as session:
        write_id = writes.escalation_write(session, escalation_id)
    if write_id is not None:
        _carry_out(database, settings, write_id)


def portal_action(database: Database, settings: Settings, audit_event_id: int) -> None:
    """Write a lead's action to the ticket as one private note."""
    with database.transaction() as session:
        write_id = writes.action_write(session, audit_event_id)
    if write_id is not None:
        _carry_out(database, settings, write_id)


def downgrade_unconfirmed(
    database: Database, settings: Settings, write_id: int
) -> None:
    """Set a ticket the portal shows as Urgent, without a call, to High."""
    _carry_out(database, settings, write_id)


def fetch_ticket(
    database: Database, settings: Settings, portal_id: int, event: str
) -> None:
    """Read a ticket an event named without the fields the rule needs."""
    data = _read(settings, "ticket", portal_id, lambda p: p.get_ticket(portal_id))
    if data is None:
        return
    with database.transaction() as session:
        store_ticket(session, data, settings.default_region, event)


def fetch_contact(database: Database, settings: Settings, contact_id: int) -> None:
    """Read a contact an event named by the portal's id only."""
    data = _read(settings, "contact", contact_id, lambda p: p.get_contact(contact_id))
    if data is None:
        return
    with database.transaction() as session:
        apply_event(session, data, settings.default_region)


def reconcile_job() -> str:
    """The scheduled pull (``flask --app wsgi reconcile`` runs the same now)."""
    from jobs import job_app

    app = job_app()
    with app.app_context():
        report = reconcile_now(app.extensions["escalation.db"], app.config["SETTINGS"])
    return report.summary()


def reconcile_now(database: Database, settings: Settings) -> Report:
    """Pull from the portal; what it stores is evaluated by jobs."""
    return reconcile(database, settings, make_portal(settings), utcnow())


def _carry_out(database: Database, settings: Settings, write_id: int) -> None:
    try:
        writes.carry_out(database, settings, write_id)
    except PortalRetryable as exc:
        if not _last_try(exc):
            raise
        writes.record_failure(database, write_id, exc, final=True)


def _last_try(error: PortalRetryable) -> bool:
    """Whether RQ would not run this job again after this failure."""
    job = get_current_job()
    if job is None:
        return False
    if error.retry_after is not None:
        return (job.number_of_retries or 0) >= RATE_LIMIT_RETRIES
    return job.retries_left == 0


def _read(
    settings: Settings, what: str, portal_id: int, read: Callable[[Portal], T]
) -> T | None:
    """What ``read`` gets from the portal, or None when it cannot be had.

    A refusal or an unusable answer ends the job (the next pull will try
    again); so does the last retry of a failure worth retrying.
    """
    if not settings.portal.enabled:
        logger.warning(
            "%s not fetched, no portal configured (FRESHDESK_DOMAIN) %s=%s",
            what,
            what,
            portal_id,
        )
        return None
    try:
        return read(make_portal(settings))
    except (PortalRefused, InvalidEvent) as exc:
        logger.warning("%s not fetched %s=%s error=%s", what, what, portal_id, exc)
    except PortalRetryable as exc:
        if not _last_try(exc):
            raise
        logger.warning("%s fetch given up %s=%s error=%s", what, what, portal_id, exc)
    return None

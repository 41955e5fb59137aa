"""The periodic pull: what changed in the portal since the last good run.

Webhooks get lost: Freshdesk gives up after its retries and drops calls
held back by its rate limit for a day. So every RECONCILE_MINUTES a job
lists the tickets updated since the last run that finished, every page,
with their requesters, and stores them through the same upsert as the
webhooks; what is not newer than what is stored changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from rq import Queue
from rq.exceptions import DuplicateJobError

from escalation.config import Settings
from escalation.db import Database
from escalation.errors import PortalError
from escalation.models import SyncCursor
from escalation.portal.base import InvalidTicket, Portal, TicketData
from escalation.portal.inbound import store_ticket
from escalation.portal_events import Outcome

logger = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.portal.reconcile_job"
# The first run, with no run before it, looks back this far.
FIRST_LOOKBACK = timedelta(days=1)
# Each run starts a little before the last one did, for tickets updated
# while it was paging and for a portal clock slightly ahead of ours.
OVERLAP = timedelta(minutes=2)
JOB_TIMEOUT_SECONDS = 30 * 60
FAILURE_TTL_SECONDS = 7 * 24 * 3600


@dataclass
class Report:
    since: datetime
    seen: int = 0
    stored: int = 0
    unchanged: int = 0
    ignored: int = 0

    def summary(self) -> str:
        return (
            f"tickets since {self.since.isoformat()}: {self.seen} seen, "
            f"{self.stored} stored, {self.unchanged} unchanged, "
            f"{self.ignored} ignored"
        )


def reconcile(
    database: Database, settings: Settings, portal: Portal, now: datetime
) -> Report:
    """Pull and store; the next run starts from ``now`` only if this one ends."""
    name = f"{settings.portal.kind}_tickets"
    report = Report(since=_start(database, name, now))
    try:
        for item in portal.tickets_updated_since(report.since):
            _store(database, settings, item, report)
    except PortalError as exc:
        _end(database, name, succeeded_from=None, seen=report.seen, error=str(exc))
        logger.warning("portal pull failed seen=%s error=%s", report.seen, exc)
        raise

    _end(database, name, succeeded_from=now, seen=report.seen, error=None)
    logger.info("portal pull done %s", report.summary())
    return report


def schedule(queue: Queue, minutes: int, now: datetime) -> str | None:
    """Queue this period's pull, once however many workers ask."""
    period = int(now.timestamp()) // (minutes * 60)
    job_id = f"reconcile-portal-{period}"
    try:
        queue.enqueue(
            JOB_FUNCTION,
            job_id=job_id,
            unique=True,
            job_timeout=JOB_TIMEOUT_SECONDS,
            result_ttl=minutes * 60 * 2,
            failure_ttl=FAILURE_TTL_SECONDS,
        )
    except DuplicateJobError:
        return None
    logger.debug("portal pull queued job=%s", job_id)
    return job_id


def _store(
    database: Database,
    settings: Settings,
    item: TicketData | InvalidTicket,
    report: Report,
) -> None:
    report.seen += 1
    if isinstance(item, InvalidTicket):
        report.ignored += 1
        logger.debug("ticket ignored ticket=%s reason=%s", item.portal_id, item.reason)
        return

    with database.transaction() as session:
        outcome = store_ticket(session, item, settings.default_region)
    if outcome in (Outcome.CREATED, Outcome.UPDATED):
        report.stored += 1
        logger.info(
            "portal pull stored a change ticket=%s outcome=%s",
            item.portal_id,
            outcome,
        )
    else:
        report.unchanged += 1


def _start(database: Database, name: str, now: datetime) -> datetime:
    with database.transaction() as session:
        cursor = session.get(SyncCursor, name)
        if cursor is None:
            cursor = SyncCursor(name=name, tickets_seen=0)
            session.add(cursor)
        cursor.attempted_at = now
        start = cursor.succeeded_from
    return start - OVERLAP if start is not None else now - FIRST_LOOKBACK


def _end(
    database: Database,
    name: str,
    succeeded_from: datetime | None,
    seen: int,
    error: str | None,
) -> None:
    with database.transaction() as session:
        cursor = session.get(SyncCursor, name)
        assert cursor is not None
        if succeeded_from is not None:
            cursor.succeeded_from = succeeded_from
        cursor.tickets_seen = seen
        cursor.error = error

"""The outbox: work committed with its fact, then relayed to the queue.

A webhook adds an entry in the same transaction as the row it stored. After
the commit it tries to enqueue at once; when Redis is away the entry simply
waits, and the relay in every worker process sends it later. Each entry has
one job id, and RQ refuses a second copy of it, so relaying twice is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError
from rq import Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from escalation.db import Database, get_db, utcnow
from escalation.errors import ConfigError
from escalation.models import OutboxEntry
from escalation.queue import get_queue

logger = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.run_outbox_entry"
RETRY = Retry(max=3, interval=[10, 60, 300])
# An entry enqueued this long ago and still not done was lost with its
# queue (a Redis without persistence restarted); it is sent again.
RESEND_AFTER = timedelta(minutes=15)
BATCH = 200
# Failed jobs stay visible (and block a second copy of their id) this long.
FAILURE_TTL_SECONDS = 30 * 24 * 3600


def add(session: Session, task: str, *args: Any) -> OutboxEntry:
    entry = OutboxEntry(task=task, args=list(args))
    session.add(entry)
    session.flush()
    return entry


def dispatch(ids: Iterable[int]) -> int:
    """Enqueue the request's new entries now; what fails waits for the relay."""
    ids = list(ids)
    if not ids:
        return 0
    try:
        return _enqueue(get_db(), get_queue(), ids)
    except (RedisError, ConfigError) as exc:
        logger.warning(
            "queue unavailable, outbox keeps the work entries=%s error=%s",
            ids,
            exc,
        )
    except Exception:
        # The fact is committed; the relay will try again. Never fail the
        # webhook that stored it.
        logger.exception("enqueue failed, outbox keeps the work entries=%s", ids)
    return 0


def relay(database: Database, queue: Any) -> int:
    """Enqueue every entry that is not on the queue yet, or was lost from it."""
    now = utcnow()
    with database.sessions() as session:
        ids = session.scalars(
            select(OutboxEntry.id)
            .where(
                OutboxEntry.done_at.is_(None),
                or_(
                    OutboxEntry.enqueued_at.is_(None),
                    OutboxEntry.enqueued_at < now - RESEND_AFTER,
                ),
            )
            .order_by(OutboxEntry.id)
            .limit(BATCH)
        ).all()
    sent = _enqueue(database, queue, ids) if ids else 0
    if sent:
        logger.info("outbox relayed entries=%s", sent)
    return sent


def pending_count(database: Database) -> int:
    with database.sessions() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.done_at.is_(None))
            )
            or 0
        )


def _enqueue(database: Database, queue: Any, ids: list[int]) -> int:
    sent = 0
    for entry_id in ids:
        try:
            queue.enqueue(
                JOB_FUNCTION,
                entry_id,
                job_id=f"outbox-{entry_id}",
                unique=True,
                retry=RETRY,
                failure_ttl=FAILURE_TTL_SECONDS,
            )
        except DuplicateJobError:
            logger.debug("outbox entry already queued entry=%s", entry_id)
        sent += 1

    with database.transaction() as session:
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.id.in_(ids), OutboxEntry.done_at.is_(None))
            .values(enqueued_at=utcnow())
        )
    return sent

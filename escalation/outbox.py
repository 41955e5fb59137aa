"""The outbox: work committed with its fact, then relayed to the queue.

A webhook (or a job) adds an entry in the same transaction as the row it
stored. When that transaction commits, the entry is queued at once; when
Redis is away the entry simply waits, and the relay in every worker process
sends it later. Each entry has
one job id, and RQ refuses a second copy of it, so relaying twice is safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import DuplicateJobError
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.orm import Session

from escalation.db import Database, utcnow
from escalation.errors import ConfigError
from escalation.models import OutboxEntry

logger = logging.getLogger(__name__)

JOB_FUNCTION = "jobs.run_outbox_entry"
RETRY = Retry(max=3, interval=[10, 60, 300])
# An entry enqueued this long ago and still not done was lost with its
# queue (a Redis without persistence restarted); it is sent again.
RESEND_AFTER = timedelta(minutes=15)
BATCH = 200
# Failed jobs stay visible (and block a second copy of their id) this long.
FAILURE_TTL_SECONDS = 30 * 24 * 3600
# Where a session keeps the ids of the entries added in its transaction.
ADDED = "escalation.outbox.added"


def add(session: Session, task: str, *args: Any) -> OutboxEntry:
    """Add work to the session's transaction; it is queued when that commits."""
    entry = OutboxEntry(task=task, args=list(args))
    session.add(entry)
    session.flush()
    session.info.setdefault(ADDED, []).append(entry.id)
    return entry


def dispatch_on_commit(database: Database, queue: Callable[[], Queue]) -> None:
    """Queue the entries a session added as soon as that session commits.

    Whoever adds an entry (a webhook, a job, a command) need not remember to
    queue it; when queueing fails, the entry waits for the relay.
    """

    def committed(session: Session) -> None:
        if session.in_nested_transaction():
            return  # a savepoint was released; the work is not committed yet
        ids = session.info.pop(ADDED, [])
        if ids:
            _dispatch(database, queue, ids)

    def rolled_back(session: Session) -> None:
        session.info.pop(ADDED, None)

    event.listen(database.sessions, "after_commit", committed)
    event.listen(database.sessions, "after_rollback", rolled_back)


def _dispatch(database: Database, queue: Callable[[], Queue], ids: list[int]) -> None:
    try:
        _enqueue(database, queue(), ids)
    except (RedisError, ConfigError) as exc:
        logger.warning(
            "queue unavailable, outbox keeps the work entries=%s error=%s", ids, exc
        )
    except Exception:
        # The fact is committed; the relay will try again. Never fail the
        # request or job that stored it.
        logger.exception("enqueue failed, outbox keeps the work entries=%s", ids)


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

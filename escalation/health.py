"""``GET /healthz``: can the service store facts and hand work to workers?"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from escalation.db import get_session, utcnow
from escalation.errors import ConfigError
from escalation.models import OutboxEntry
from escalation.queue import get_queue

bp = Blueprint("health", __name__)

# Work that waits longer than this means no worker or scheduler is running.
STALE_AFTER = timedelta(minutes=2)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """503 when the database or Redis is unreachable (take this web out).

    Work that waits too long, or scheduled jobs past due, mean no worker or
    scheduler is keeping up: the body says "degraded", but this web process
    can still store what arrives, so it answers 200.
    """
    checks = {"database": _database(), "queue": _queue()}
    if not all(check["reachable"] for check in checks.values()):
        return jsonify(status="down", **checks), 503
    behind = not all(check["ok"] for check in checks.values())
    return jsonify(status="degraded" if behind else "ok", **checks), 200


def _database() -> dict[str, Any]:
    session = get_session()
    try:
        session.execute(text("SELECT 1"))
        oldest = session.scalar(
            select(func.min(OutboxEntry.created_at)).where(
                OutboxEntry.done_at.is_(None)
            )
        )
    except SQLAlchemyError as exc:
        return {"reachable": False, "ok": False, "error": type(exc).__name__}
    age = _age_seconds(oldest)
    return {
        "reachable": True,
        "ok": age is None or age < STALE_AFTER.total_seconds(),
        "oldest_pending_work_seconds": age,
    }


def _queue() -> dict[str, Any]:
    try:
        queue = get_queue()
        queue.connection.ping()
        overdue = queue.scheduled_job_registry.get_jobs_to_schedule(
            int((utcnow() - STALE_AFTER).timestamp())
        )
    except (RedisError, ConfigError) as exc:
        return {"reachable": False, "ok": False, "error": type(exc).__name__}
    return {
        "reachable": True,
        "ok": not overdue,
        "queued": len(queue),
        "failed": len(queue.failed_job_registry),
        "overdue_scheduled": len(overdue),
    }


def _age_seconds(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int((datetime.now(UTC) - moment).total_seconds())

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
    checks = {"database": _database(), "queue": _queue()}
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), (
        200 if healthy else 503
    )


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
        return {"ok": False, "error": type(exc).__name__}
    age = _age_seconds(oldest)
    return {
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
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": not overdue, "queued": len(queue), "overdue_scheduled": len(overdue)}


def _age_seconds(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return int((datetime.now(UTC) - moment).total_seconds())

"""``GET /metrics``: counts an operator graphs, in Prometheus' text format."""

from __future__ import annotations

from flask import Blueprint, Response
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from escalation.auth import api_token_required
from escalation.db import get_session
from escalation.errors import ConfigError
from escalation.models import (
    Call,
    Escalation,
    Notification,
    OutboxEntry,
    PortalWrite,
    Review,
)
from escalation.queue import get_queue

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@api_token_required
def metrics() -> Response:
    session = get_session()
    lines = [
        *_gauge("escalation_calls_total", "Calls received.", _count(session, Call)),
        *_gauge(
            "escalation_escalations_total",
            "Urgent requests confirmed.",
            _count(session, Escalation),
        ),
        *_gauge(
            "escalation_reviews_open",
            "Cases waiting for a lead's decision.",
            _count(session, Review, Review.resolved_at.is_(None)),
        ),
        *_gauge(
            "escalation_outbox_pending",
            "Work stored but not done yet.",
            _count(session, OutboxEntry, OutboxEntry.done_at.is_(None)),
        ),
        *_gauge(
            "escalation_portal_writes_failed",
            "Decisions the portal refused or never took.",
            _count(session, PortalWrite, PortalWrite.state == "failed"),
        ),
        *_gauge(
            "escalation_notifications_pending",
            "Alerts not delivered yet (retrying, or failed every try).",
            _count(session, Notification, Notification.status == "pending"),
        ),
        *_queue_gauges(),
    ]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")


def _count(session: Session, model: type, *criteria: object) -> int:
    statement = select(func.count()).select_from(model).where(*criteria)
    return session.scalar(statement) or 0


def _queue_gauges() -> list[str]:
    try:
        queue = get_queue()
        queued, failed = len(queue), len(queue.failed_job_registry)
    except (RedisError, ConfigError):
        return _gauge("escalation_queue_up", "Whether Redis answers.", 0)
    return [
        *_gauge("escalation_queue_up", "Whether Redis answers.", 1),
        *_gauge("escalation_jobs_queued", "Jobs waiting for a worker.", queued),
        *_gauge("escalation_jobs_failed", "Jobs that failed every try.", failed),
    ]


def _gauge(name: str, help_text: str, value: int) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {value}"]

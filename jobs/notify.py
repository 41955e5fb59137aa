"""Alert the leads: plan one notification per recipient, then send each."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from escalation import notifications, outbox
from escalation.config import Settings

# Tests put a recording Twilio HTTP client here; unset, Twilio's own is used.
TWILIO_HTTP_EXTENSION = "escalation.twilio_http"


def notify(session: Session, settings: Settings, kind: str, event_id: int) -> None:
    entry_ids = notifications.plan(session, settings, kind, event_id)
    dispatch_after_commit(session, entry_ids)


def notify_send(session: Session, settings: Settings, notification_id: int) -> None:
    twilio_http = current_app.extensions.get(TWILIO_HTTP_EXTENSION)
    notifications.send(session, settings, notification_id, twilio_http)


def dispatch_after_commit(session: Session, entry_ids: list[int]) -> None:
    """Queue entries this job wrote as soon as its transaction commits.

    Without this they would wait for the relay's next round; with it, a
    lost enqueue still falls back to the relay, as a webhook's does.
    """
    if entry_ids:
        event.listen(
            session,
            "after_commit",
            lambda _session: outbox.dispatch(entry_ids),
            once=True,
        )

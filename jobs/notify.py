"""Alert the leads: plan one notification per recipient, then send each."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from escalation import notifications
from escalation.config import Settings

# Tests put a recording Twilio HTTP client here; unset, Twilio's own is used.
TWILIO_HTTP_EXTENSION = "escalation.twilio_http"


def notify(session: Session, settings: Settings, kind: str, event_id: int) -> None:
    notifications.plan(session, settings, kind, event_id)


def notify_send(session: Session, settings: Settings, notification_id: int) -> None:
    twilio_http = current_app.extensions.get(TWILIO_HTTP_EXTENSION)
    notifications.send(session, settings, notification_id, twilio_http)

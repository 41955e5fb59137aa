"""How the dashboard writes times, durations, states and numbers."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask

from escalation.config import get_settings
from escalation.models import AuditEvent, WriteState
from escalation.phones import mask
from escalation.queue_view import reason_label, voicemail_url

STATE_LABELS = {
    "confirmed": "Urgent",
    "awaiting_call": "Awaiting call",
    "expired": "Expired",
    "none": "Not urgent",
}
ACTION_LABELS = {
    "acknowledge": "Acknowledged",
    "assign": "Assigned",
    "confirm": "Confirmed as Urgent",
    "decline": "Declined",
}
PORTAL_WRITE_LABELS = {
    WriteState.SYNCED: "synced, the note is in the portal",
    WriteState.PENDING: "pending, being written or waiting for a retry",
    WriteState.FAILED: "failed",
    WriteState.SKIPPED: "skipped",
}


def register_filters(app: Flask) -> None:
    app.add_template_filter(local_time, "local")
    app.add_template_filter(local_iso, "local_iso")
    app.add_template_filter(duration, "duration")
    app.add_template_filter(call_length, "call_length")
    app.add_template_filter(mask, "mask")
    app.add_template_filter(reason_label, "reason_label")
    app.add_template_filter(voicemail_url, "voicemail_url")
    app.add_template_filter(state_label, "state_label")
    app.add_template_filter(action_label, "action_label")
    app.add_template_filter(action_portal_label, "action_portal_label")


def local_time(moment: datetime | None, fmt: str = "%d-%m-%Y %H:%M") -> str:
    """A stored UTC instant in the desk's time zone, e.g. 04-12-2026 14:05."""
    if moment is None:
        return ""
    return moment.astimezone(get_settings().display_timezone).strftime(fmt)


def local_iso(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(get_settings().display_timezone).isoformat()


def duration(span: timedelta | None) -> str:
    """Time since or until, to the minute: 12 min, 2 h 5 min, 3 d 4 h.

    Whole minutes only, so that the polled queue changes once a minute and
    not on every poll.
    """
    if span is None:
        return ""
    minutes = max(0, int(span.total_seconds())) // 60
    if minutes < 1:
        return "under 1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def action_portal_label(event: AuditEvent) -> str:
    """Where carrying an action to the portal stands, e.g. "failed: ...".

    No write yet means its job has not run; a failed or skipped write says why.
    """
    if event.ticket_id is None:
        return "nothing to write, the ticket is not known to the service"
    write = event.portal_write
    if write is None:
        return "pending, queued for the portal"
    label = PORTAL_WRITE_LABELS.get(WriteState(write.state), write.state)
    if write.state in (WriteState.FAILED, WriteState.SKIPPED) and write.error:
        return f"{label}: {write.error}"
    return label


def call_length(seconds: int | None) -> str:
    """How long a call lasted: 45 s, 3 min 20 s."""
    if seconds is None:
        return ""
    minutes, rest = divmod(max(0, seconds), 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"

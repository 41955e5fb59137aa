"""The read API: a ticket's priority and escalation, for scripts and portals."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, jsonify
from sqlalchemy import select

from escalation.auth import api_token_required
from escalation.config import get_settings
from escalation.db import get_session, utcnow
from escalation.models import Call, Escalation, Ticket
from escalation.phones import mask
from escalation.portal.writes import ticket_sync
from escalation.rule import TicketState, ticket_state

# Portal ids are BIGINT; a larger number names no ticket.
MAX_ID = 2**63 - 1

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/tickets/<int:portal_id>")
@api_token_required
def get_ticket(portal_id: int) -> Response:
    settings = get_settings()
    session = get_session()
    ticket = None
    if portal_id <= MAX_ID:
        ticket = session.scalar(select(Ticket).where(Ticket.portal_id == portal_id))
    if ticket is None:
        abort(404, description=f"No ticket {portal_id} is known to the service.")

    state = ticket_state(session, ticket, settings.window_minutes, utcnow())
    sync = ticket_sync(session, settings, ticket)
    return jsonify(ticket_json(state, settings.display_timezone, sync.value))


def ticket_json(
    state: TicketState, zone: ZoneInfo, portal_sync: str | None = None
) -> dict[str, Any]:
    """``portal_sync``: synced, pending, failed, or skipped without a portal."""
    ticket = state.ticket
    escalation = state.escalation
    return {
        "ticket": ticket.portal_id,
        "subject": ticket.subject,
        "status": ticket.status.value,
        "impact": ticket.impact.value,
        "urgency": ticket.urgency.value,
        "customer_priority": (
            ticket.customer_priority.value if ticket.customer_priority else None
        ),
        "matrix_priority": ticket.matrix_priority.value,
        "effective_priority": state.effective_priority.value,
        "escalation": {
            "state": state.state.value,
            "urgent_requested_at": shown(ticket.urgent_requested_at, zone),
            "window_opens_at": shown(state.window_opens_at, zone),
            "window_closes_at": shown(state.window_closes_at, zone),
        },
        "confirming_call": call_json(escalation.call, zone) if escalation else None,
        "decision": decision_json(escalation, zone) if escalation else None,
        "portal_sync": portal_sync,
    }


def call_json(call: Call, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "call_sid": call.call_sid,
        "caller": mask(call.caller_e164 or call.caller_raw),
        "received_at": shown(call.received_at, zone),
        "status": call.status,
    }


def decision_json(escalation: Escalation, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "outcome": escalation.outcome,
        "decided_at": shown(escalation.decided_at, zone),
        "tied_by": escalation.tied_by,
        "window_minutes": escalation.window_minutes,
        "window_opens_at": shown(escalation.window_opens_at, zone),
        "window_closes_at": shown(escalation.window_closes_at, zone),
        "inputs": escalation.inputs,
    }


def shown(moment: datetime | None, zone: ZoneInfo) -> str | None:
    """An instant in the desk's own time zone, offset included."""
    return moment.astimezone(zone).isoformat() if moment else None

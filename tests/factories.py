"""Facts at a chosen moment: calls and tickets stored through the same
functions the webhooks use, with the clock set by the test."""

from __future__ import annotations

from datetime import datetime

from escalation.calls import record_incoming_call
from escalation.config import Settings
from escalation.db import Database
from escalation.models import Call, Ticket
from escalation.portal_events import apply_event, parse_event
from tests.helpers import (
    API_TOKEN,
    PORTAL_SECRET,
    SECRET_KEY,
    TWILIO_TOKEN,
    new_call_sid,
    ticket_event,
    voice_params,
)

# The defaults the service runs with; facts made here do not depend on them
# beyond the caller's language and business hours.
SETTINGS = Settings.load(
    {
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PORTAL_WEBHOOK_SECRET": PORTAL_SECRET,
        "API_TOKEN": API_TOKEN,
        "SECRET_KEY": SECRET_KEY,
    },
    instance_path=".",
)


def make_call(
    db: Database, caller: str, at: datetime, call_sid: str | None = None
) -> Call:
    with db.transaction() as session:
        incoming = record_incoming_call(
            session, voice_params(caller, call_sid or new_call_sid()), SETTINGS, at
        )
    return incoming.call


def make_ticket(db: Database, at: datetime, **fields: object) -> Ticket:
    data = parse_event(ticket_event(at, **fields))
    with db.transaction() as session:
        apply_event(session, data, "NL")
        ticket = session.query(Ticket).filter_by(portal_id=data.portal_id).one()
    return ticket

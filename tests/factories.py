"""Facts at a chosen moment: calls and tickets stored through the same
functions the webhooks use, with the clock set by the test."""

from __future__ import annotations

from datetime import datetime

from escalation.calls import record_incoming_call
from escalation.db import Database
from escalation.models import Call, Ticket
from escalation.portal_events import apply_event, parse_event
from tests.helpers import new_call_sid, ticket_event, voice_params


def make_call(
    db: Database, caller: str, at: datetime, call_sid: str | None = None
) -> Call:
    with db.transaction() as session:
        incoming = record_incoming_call(
            session, voice_params(caller, call_sid or new_call_sid()), "NL", at
        )
    return incoming.call


def make_ticket(db: Database, at: datetime, **fields: object) -> Ticket:
    data = parse_event(ticket_event(at, **fields))
    with db.transaction() as session:
        apply_event(session, data, "NL")
        ticket = session.query(Ticket).filter_by(portal_id=data.portal_id).one()
    return ticket

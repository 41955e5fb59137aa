"""Incoming calls: store each one once, and see which tickets it ties to."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.db import insert_or_ignore
from escalation.errors import InvalidEvent
from escalation.models import Call, Ticket
from escalation.phones import mask, parse_caller_id
from escalation.rule import open_tickets_for_number

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncomingCall:
    call: Call
    is_new: bool
    tickets: list[Ticket]
    outbox_ids: list[int]

    @property
    def urgent_requests(self) -> list[Ticket]:
        return [ticket for ticket in self.tickets if ticket.is_urgent_request]


def record_incoming_call(
    session: Session, form: Mapping[str, str], region: str, now: datetime
) -> IncomingCall:
    """Store the call by CallSid (a repeat delivery stores nothing new)."""
    call_sid = (form.get("CallSid") or "").strip()
    if not call_sid:
        raise InvalidEvent("CallSid is missing from the voice webhook", status=400)

    caller = parse_caller_id(form.get("From"), region)
    new_id = insert_or_ignore(
        session,
        Call,
        {
            "call_sid": call_sid,
            "caller_raw": caller.raw,
            "caller_e164": caller.e164,
            "caller_withheld": caller.withheld,
            "called": (form.get("To") or "").strip(),
            "status": (form.get("CallStatus") or "").strip(),
            "received_at": now,
        },
        "call_sid",
    )
    call = session.scalar(select(Call).where(Call.call_sid == call_sid))
    assert call is not None

    outbox_ids = []
    if new_id is not None:
        outbox_ids.append(outbox.add(session, "evaluate_call", call.id).id)
    tickets = open_tickets_for_number(session, call.caller_e164)
    logger.info(
        "call received call_sid=%s caller=%s withheld=%s new=%s open_tickets=%s",
        call_sid,
        mask(call.caller_e164 or call.caller_raw),
        call.caller_withheld,
        new_id is not None,
        [ticket.portal_id for ticket in tickets],
    )
    return IncomingCall(
        call=call, is_new=new_id is not None, tickets=tickets, outbox_ids=outbox_ids
    )

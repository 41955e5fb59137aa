"""Calls: store each one once, record what the caller did, keep its state.

Twilio may deliver any request twice and status callbacks out of order;
everything here is safe to repeat and never moves a call backwards.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.config import Settings
from escalation.db import insert_or_ignore
from escalation.errors import InvalidEvent
from escalation.models import Call, Ticket
from escalation.phones import mask, parse_caller_id
from escalation.rule import contacts_with_number, open_tickets_for_number
from escalation.voice import language_or

logger = logging.getLogger(__name__)

# Where a call ends; no later callback may move it away from these.
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
ANSWERED_DIAL_STATUSES = frozenset({"completed", "answered"})
# The order a call's status moves in, for callbacks that carry no order.
STATUS_ORDER = ("queued", "initiated", "ringing", "in-progress")
CALL_SID_LIMIT = 64
RAW_CALLER_LIMIT = 255
# Longer than any count Twilio sends (and than a 32-bit column holds).
MAX_DIGITS = 9


@dataclass(frozen=True)
class IncomingCall:
    call: Call
    is_new: bool
    tickets: list[Ticket]
    known_caller: bool

    @property
    def urgent_requests(self) -> list[Ticket]:
        return [ticket for ticket in self.tickets if ticket.is_urgent_request]


def record_incoming_call(
    session: Session, form: Mapping[str, str], settings: Settings, now: datetime
) -> IncomingCall:
    """Store the call by CallSid (a repeat delivery stores nothing new)."""
    call_sid = _call_sid(form)
    caller = parse_caller_id(form.get("From"), settings.default_region)
    contacts = contacts_with_number(session, caller.e164) if caller.e164 else []
    languages = {contact.language for contact in contacts if contact.language}
    language = language_or(
        languages.pop() if len(languages) == 1 else None, settings.default_language
    )

    new_id = insert_or_ignore(
        session,
        Call,
        {
            "call_sid": call_sid,
            "caller_raw": caller.raw[:RAW_CALLER_LIMIT],
            "caller_e164": caller.e164,
            "caller_withheld": caller.withheld,
            "called": _field(form, "To", 64),
            "status": _field(form, "CallStatus", 32),
            "received_at": now,
            "language": language,
            "out_of_hours": not settings.business_hours.is_open(
                now, settings.display_timezone
            ),
        },
        "call_sid",
    )
    call = find_call(session, call_sid)
    assert call is not None

    if new_id is not None:
        outbox.add(session, "evaluate_call", call.id)
    tickets = open_tickets_for_number(session, call.caller_e164, contacts)
    logger.info(
        "call received call_sid=%s caller=%s withheld=%s new=%s open_tickets=%s",
        call_sid,
        mask(call.caller_e164 or call.caller_raw),
        call.caller_withheld,
        new_id is not None,
        [ticket.portal_id for ticket in tickets],
    )
    return IncomingCall(
        call=call,
        is_new=new_id is not None,
        tickets=tickets,
        known_caller=bool(contacts),
    )


def find_call(session: Session, call_sid: str) -> Call | None:
    return session.scalar(
        select(Call)
        .where(Call.call_sid == call_sid)
        .execution_options(populate_existing=True)
    )


def call_for_request(
    session: Session, form: Mapping[str, str], settings: Settings, now: datetime
) -> Call:
    """The call a follow-up request is about; registered now if we missed it."""
    call = find_call(session, _call_sid(form))
    if call is not None:
        return call
    return record_incoming_call(session, form, settings, now).call


def choose_ticket(session: Session, call: Call, digits: str) -> Ticket | None:
    """Tie the call to the open ticket the caller typed, if it is one.

    Whether that tie may confirm an urgent request is the rule's decision,
    made in the job: a number typed by an unknown caller goes to review.
    """
    call.ticket_tries += 1
    ticket = None
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        ticket = session.scalar(select(Ticket).where(Ticket.portal_id == int(digits)))
    if ticket is None or not ticket.status.is_open:
        logger.info(
            "typed ticket is not open call_sid=%s tries=%s",
            call.call_sid,
            call.ticket_tries,
        )
        return None

    call.ticket_id = ticket.id
    outbox.add(session, "evaluate_call", call.id)
    logger.info(
        "caller chose ticket call_sid=%s ticket=%s", call.call_sid, ticket.portal_id
    )
    return ticket


def apply_status(call: Call, form: Mapping[str, str]) -> bool:
    """Apply a status callback unless it is older than what we have."""
    status = _field(form, "CallStatus", 32)
    sequence = _int(form.get("SequenceNumber"))
    moment = _rfc2822(form.get("Timestamp"))
    if not status or _is_final(call) or _is_older(call, status, sequence, moment):
        logger.info(
            "status callback ignored call_sid=%s status=%s sequence=%s current=%s",
            call.call_sid,
            status,
            sequence,
            call.status,
        )
        return False

    call.status = status
    call.status_sequence = sequence if sequence is not None else call.status_sequence
    call.status_at = moment or call.status_at
    duration = _int(form.get("CallDuration"))
    if duration is not None:
        call.duration_seconds = duration
    logger.info("call status call_sid=%s status=%s", call.call_sid, status)
    return True


def record_dial_result(call: Call, form: Mapping[str, str]) -> bool:
    """Store how forwarding went; True when somebody answered."""
    call.dial_status = _field(form, "DialCallStatus", 32) or None
    call.dial_duration_seconds = _int(form.get("DialCallDuration"))
    logger.info(
        "forwarding ended call_sid=%s dial_status=%s", call.call_sid, call.dial_status
    )
    return call.dial_status in ANSWERED_DIAL_STATUSES


def record_voicemail(call: Call, form: Mapping[str, str]) -> None:
    """Store the recording from <Record>'s action or its status callback."""
    call.recording_sid = _field(form, "RecordingSid", 64) or call.recording_sid
    call.recording_url = _field(form, "RecordingUrl", 2000) or call.recording_url
    duration = _int(form.get("RecordingDuration"))
    if duration is not None:
        call.recording_duration_seconds = duration
    status = _field(form, "RecordingStatus", 32)
    if status:
        call.recording_status = status
    logger.info(
        "voicemail stored call_sid=%s seconds=%s status=%s",
        call.call_sid,
        call.recording_duration_seconds,
        call.recording_status,
    )


def _is_final(call: Call) -> bool:
    """Ended, by a status callback (the voice webhook's own status is a guess)."""
    from_callback = call.status_sequence is not None or call.status_at is not None
    return from_callback and call.status in FINAL_STATUSES


def _is_older(
    call: Call, status: str, sequence: int | None, moment: datetime | None
) -> bool:
    if sequence is not None and call.status_sequence is not None:
        return sequence <= call.status_sequence
    if moment is not None and call.status_at is not None:
        return moment < call.status_at
    return _rank(status) < _rank(call.status)


def _rank(status: str) -> int:
    if status in FINAL_STATUSES:
        return len(STATUS_ORDER)
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else -1


def _call_sid(form: Mapping[str, str]) -> str:
    call_sid = (form.get("CallSid") or "").strip()
    if not call_sid:
        raise InvalidEvent("CallSid is missing from the Twilio request", status=400)
    if len(call_sid) > CALL_SID_LIMIT:
        raise InvalidEvent(
            f"CallSid is {len(call_sid)} characters; Twilio's are 34", status=400
        )
    return call_sid


def _int(value: str | None) -> int | None:
    """A count Twilio sent; anything else (², 30 nines) counts as absent."""
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return None
    return int(text)


def _rfc2822(value: str | None) -> datetime | None:
    """Twilio's Timestamp, which is UTC; a time without a zone is read as such."""
    try:
        moment = parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError):
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _field(form: Mapping[str, str], name: str, limit: int) -> str:
    """A text field, cut to the column's size: an odd value never loses a call."""
    return (form.get(name) or "").strip()[:limit]

"""The rule: a ticket is Urgent only when an urgent request and a call meet.

An urgent request is an open ticket whose matrix priority is Urgent; it
starts at ``urgent_requested_at``. A call confirms it when the caller's
number belongs to the requester (or to the requester's company) and the
call started within the window around that moment, before or after. One
decision is written per urgent request, however often this runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.db import insert_or_ignore, locked, utcnow
from escalation.models import Call, CompanyPhone, Contact, Escalation, Review, Ticket
from escalation.phones import mask
from escalation.priority import MATRIX, OPEN_STATUSES, Level, effective_priority

logger = logging.getLogger(__name__)


class Reason(StrEnum):
    """Why a case needs a person's decision."""

    TYPED_BY_UNKNOWN_CALLER = "typed_by_unknown_caller"
    SEVERAL_URGENT_REQUESTS = "several_urgent_requests"
    CALL_AFTER_WINDOW = "call_after_window"
    CUSTOMER_URGENT_MATRIX_LOWER = "customer_urgent_matrix_lower"


class State(StrEnum):
    NONE = "none"
    AWAITING_CALL = "awaiting_call"
    CONFIRMED = "confirmed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class TicketState:
    ticket: Ticket
    state: State
    effective_priority: Level
    escalation: Escalation | None
    window_opens_at: datetime | None
    window_closes_at: datetime | None


def urgent_request_clause() -> ColumnElement[bool]:
    """``Ticket.is_urgent_request`` as SQL, from the same matrix."""
    cells = [
        and_(Ticket.impact == impact, Ticket.urgency == urgency)
        for (impact, urgency), level in MATRIX.items()
        if level is Level.URGENT
    ]
    return and_(Ticket.status.in_(OPEN_STATUSES), or_(*cells))


def window(anchor: datetime, minutes: int) -> tuple[datetime, datetime]:
    span = timedelta(minutes=minutes)
    return anchor - span, anchor + span


def contacts_with_number(session: Session, e164: str) -> Sequence[Contact]:
    return session.scalars(
        select(Contact).where(
            or_(Contact.phone_e164 == e164, Contact.mobile_e164 == e164)
        )
    ).all()


def open_tickets_for_number(
    session: Session, e164: str | None, contacts: Sequence[Contact] | None = None
) -> list[Ticket]:
    """Open tickets whose requester, or the requester's company, has ``e164``.

    ``contacts``: those with the number, when the caller has read them already.
    """
    if not e164:
        return []
    if contacts is None:
        contacts = contacts_with_number(session, e164)
    contact_ids = {contact.id for contact in contacts}
    company_ids = {c.company_id for c in contacts if c.company_id is not None}
    company_ids.update(
        session.scalars(
            select(CompanyPhone.company_id).where(CompanyPhone.phone_e164 == e164)
        )
    )
    if not contact_ids and not company_ids:
        return []

    return list(
        session.scalars(
            select(Ticket)
            .where(
                or_(
                    Ticket.requester_id.in_(contact_ids),
                    Ticket.company_id.in_(company_ids),
                ),
                Ticket.status.in_(OPEN_STATUSES),
            )
            .order_by(Ticket.id)
        )
    )


def numbers_of_ticket(session: Session, ticket: Ticket) -> dict[str, str]:
    """Every number that ties a call to ``ticket``, with how it ties."""
    numbers: dict[str, str] = {}
    if ticket.company_id is not None:
        colleagues = session.scalars(
            select(Contact).where(Contact.company_id == ticket.company_id)
        )
        numbers.update(dict.fromkeys(_numbers(colleagues), "company"))
        lines = session.scalars(
            select(CompanyPhone.phone_e164).where(
                CompanyPhone.company_id == ticket.company_id
            )
        )
        numbers.update(dict.fromkeys(lines, "company"))
    if ticket.requester is not None:
        numbers.update(dict.fromkeys(ticket.requester.numbers, "requester"))
    return numbers


def _numbers(contacts: Iterable[Contact]) -> set[str]:
    return {number for contact in contacts for number in contact.numbers}


def current_escalation(session: Session, ticket: Ticket) -> Escalation | None:
    if ticket.urgent_requested_at is None:
        return None
    return session.scalar(
        select(Escalation).where(
            Escalation.ticket_id == ticket.id,
            Escalation.urgent_requested_at == ticket.urgent_requested_at,
        )
    )


def ticket_state(
    session: Session, ticket: Ticket, minutes: int, now: datetime
) -> TicketState:
    matrix = ticket.matrix_priority
    escalation = current_escalation(session, ticket)
    confirmed = escalation is not None and matrix is Level.URGENT
    opens = closes = None
    if ticket.urgent_requested_at is not None:
        opens, closes = window(ticket.urgent_requested_at, minutes)

    if confirmed:
        state = State.CONFIRMED
    elif ticket.is_urgent_request and closes is not None:
        state = State.AWAITING_CALL if now <= closes else State.EXPIRED
    else:
        state = State.NONE

    return TicketState(
        ticket=ticket,
        state=state,
        effective_priority=effective_priority(matrix, confirmed),
        escalation=escalation if confirmed else None,
        window_opens_at=opens,
        window_closes_at=closes,
    )


def evaluate_ticket(
    session: Session, ticket_id: int, minutes: int
) -> Escalation | None:
    """Escalate ``ticket_id`` if a call confirms its urgent request.

    The ticket row is locked for the length of the transaction (on
    PostgreSQL), and the unique key on (ticket, urgent request) catches any
    writer the lock did not stop, so two workers never escalate twice.
    """
    ticket = locked(session, Ticket, Ticket.id == ticket_id)
    if ticket is None or not ticket.is_urgent_request:
        return None
    existing = current_escalation(session, ticket)
    if existing is not None:
        return existing

    assert ticket.urgent_requested_at is not None
    numbers = numbers_of_ticket(session, ticket)
    for call in _calls_in_window(session, ticket, numbers, minutes):
        if call.ticket_id is not None and call.ticket_id != ticket.id:
            continue  # the caller said on the keypad it is about another ticket
        tie = numbers[call.caller_e164]
        if call.ticket_id == ticket.id:
            return _record(session, ticket, call, f"{tie}+keypad", minutes)
        rivals = _rival_requests(session, call, ticket, tie, minutes)
        if rivals:
            open_review(
                session,
                Reason.SEVERAL_URGENT_REQUESTS,
                call=call,
                detail={"tickets": sorted([ticket.portal_id, *rivals])},
            )
            continue
        return _record(session, ticket, call, tie, minutes)

    logger.debug("no confirming call yet ticket=%s", ticket.portal_id)
    return None


def evaluate_call(session: Session, call_id: int, minutes: int) -> list[Escalation]:
    """Try every urgent request the call could confirm; keep it as evidence.

    What the rule cannot decide alone becomes a review case.
    """
    call = session.get(Call, call_id)
    if call is None:
        return []

    tickets = open_tickets_for_number(session, call.caller_e164)
    if call.ticket is not None and call.ticket not in tickets:
        open_review(
            session, Reason.TYPED_BY_UNKNOWN_CALLER, call=call, ticket=call.ticket
        )

    escalations = []
    for ticket in tickets:
        escalation = evaluate_ticket(session, ticket.id, minutes)
        if escalation is None:
            _review_unconfirmed(session, call, ticket, minutes)
        elif escalation.call_id == call.id:
            escalations.append(escalation)
    if not escalations:
        logger.info(
            "call kept as evidence call_sid=%s caller=%s",
            call.call_sid,
            mask(call.caller_e164 or call.caller_raw),
        )
    return escalations


def open_review(
    session: Session,
    reason: Reason,
    *,
    call: Call | None = None,
    ticket: Ticket | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Put a case in front of a person, once per reason, ticket and call."""
    key = f"{reason}:{ticket.id if ticket else '-'}:{call.id if call else '-'}"
    created = insert_or_ignore(
        session,
        Review,
        {
            "key": key,
            "reason": reason.value,
            "ticket_id": ticket.id if ticket else None,
            "call_id": call.id if call else None,
            "detail": detail or {},
            "created_at": utcnow(),
        },
        "key",
    )
    if created is not None:
        outbox.add(session, "notify", "review", created)
        logger.info(
            "review opened reason=%s ticket=%s call_sid=%s",
            reason,
            ticket.portal_id if ticket else None,
            call.call_sid if call else None,
        )


def _review_unconfirmed(
    session: Session, call: Call, ticket: Ticket, minutes: int
) -> None:
    if ticket.is_urgent_request and current_escalation(session, ticket) is None:
        assert ticket.urgent_requested_at is not None
        _, closes = window(ticket.urgent_requested_at, minutes)
        if call.received_at > closes:
            open_review(session, Reason.CALL_AFTER_WINDOW, call=call, ticket=ticket)
    customer_urgent = ticket.customer_priority is Level.URGENT
    if customer_urgent and ticket.matrix_priority is not Level.URGENT:
        open_review(
            session,
            Reason.CUSTOMER_URGENT_MATRIX_LOWER,
            call=call,
            ticket=ticket,
            detail={"matrix_priority": ticket.matrix_priority.value},
        )


def _calls_in_window(
    session: Session, ticket: Ticket, numbers: dict[str, str], minutes: int
) -> Sequence[Call]:
    assert ticket.urgent_requested_at is not None
    if not numbers:
        return []
    opens, closes = window(ticket.urgent_requested_at, minutes)
    # One call confirms one urgent request: a call that already confirmed
    # another ticket is not evidence for this one.
    spent = select(Escalation.call_id).where(Escalation.ticket_id != ticket.id)
    return session.scalars(
        select(Call)
        .where(
            Call.caller_e164.in_(numbers),
            Call.received_at >= opens,
            Call.received_at <= closes,
            Call.id.not_in(spent),
        )
        .order_by(Call.received_at, Call.id)
    ).all()


def _rival_requests(
    session: Session, call: Call, ticket: Ticket, tie: str, minutes: int
) -> list[int]:
    """Other urgent requests this call could equally well be about.

    A caller's own ticket outranks a colleague's: when the call ties to
    ``ticket`` as its requester, only tickets the caller also requested
    compete with it.
    """
    rivals = []
    for other in open_tickets_for_number(session, call.caller_e164):
        if other.id == ticket.id or not other.is_urgent_request:
            continue
        if current_escalation(session, other) is not None:
            continue  # already confirmed: nothing left for this call to decide
        if tie == "requester" and call.caller_e164 not in _requester_numbers(other):
            continue
        assert other.urgent_requested_at is not None
        opens, closes = window(other.urgent_requested_at, minutes)
        if opens <= call.received_at <= closes:
            rivals.append(other.portal_id)
    return rivals


def _requester_numbers(ticket: Ticket) -> set[str]:
    return ticket.requester.numbers if ticket.requester is not None else set()


def _record(
    session: Session, ticket: Ticket, call: Call, tied_by: str, minutes: int
) -> Escalation:
    assert ticket.urgent_requested_at is not None
    escalation = Escalation(
        ticket_id=ticket.id,
        call_id=call.id,
        urgent_requested_at=ticket.urgent_requested_at,
        window_minutes=minutes,
        tied_by=f"caller_id:{tied_by}",
        outcome="confirmed",
        inputs={
            "status": ticket.status.value,
            "impact": ticket.impact.value,
            "urgency": ticket.urgency.value,
            "matrix_priority": ticket.matrix_priority.value,
            "customer_priority": _value(ticket.customer_priority),
            "urgent_requested_at": ticket.urgent_requested_at.isoformat(),
            "call_sid": call.call_sid,
            "call_received_at": call.received_at.isoformat(),
            "caller": mask(call.caller_e164),
            "call_offset_seconds": int(
                (call.received_at - ticket.urgent_requested_at).total_seconds()
            ),
        },
    )
    escalation, created = store_escalation(session, ticket, escalation)
    if not created:
        return escalation
    logger.info(
        "ticket escalated to urgent ticket=%s call_sid=%s caller=%s",
        ticket.portal_id,
        call.call_sid,
        mask(call.caller_e164),
    )
    return escalation


def store_escalation(
    session: Session, ticket: Ticket, escalation: Escalation
) -> tuple[Escalation, bool]:
    """Store the decision unless one exists for this urgent request.

    The unique key decides between racing writers; only the writer that
    stored it queues the portal write-back and the alerts.
    """
    try:
        with session.begin_nested():
            session.add(escalation)
    except IntegrityError:
        existing = current_escalation(session, ticket)
        assert existing is not None, "unique key refused, yet no escalation found"
        return existing, False

    outbox.add(session, "push_escalation", escalation.id)
    outbox.add(session, "notify", "escalation", escalation.id)
    return escalation, True


def _value(level: Level | None) -> str | None:
    return level.value if level is not None else None

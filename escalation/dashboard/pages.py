"""What the ticket and review pages show, read in one place."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from escalation.models import (
    Acknowledgement,
    AuditEvent,
    Call,
    Escalation,
    Lead,
    Review,
    Ticket,
)
from escalation.priority import MATRIX, SLA_LEVELS, Level
from escalation.queue_view import assignees_of, review_tickets
from escalation.rule import TicketState, numbers_of_ticket, ticket_state

CALLS_SHOWN = 50
# The matrix as the desk's process document draws it: high first.
LEVELS_HIGH_FIRST = tuple(reversed(SLA_LEVELS))


@dataclass(frozen=True)
class CallBack:
    label: str
    number: str


@dataclass(frozen=True)
class TicketPage:
    ticket: Ticket
    state: TicketState
    acknowledgement: Acknowledgement | None
    assignee: Lead | None
    call_backs: list[CallBack]
    calls: Sequence[Call]
    reviews: Sequence[Review]
    trail: Sequence[AuditEvent]
    leads: Sequence[Lead]

    @property
    def matrix_rows(self) -> list[tuple[Level, list[tuple[Level, Level, bool]]]]:
        """(impact, [(urgency, priority, is this ticket's cell)]) per row."""
        ticket = self.ticket
        return [
            (
                impact,
                [
                    (
                        urgency,
                        MATRIX[(impact, urgency)],
                        (impact, urgency) == (ticket.impact, ticket.urgency),
                    )
                    for urgency in LEVELS_HIGH_FIRST
                ],
            )
            for impact in LEVELS_HIGH_FIRST
        ]

    @property
    def urgency_columns(self) -> tuple[Level, ...]:
        return LEVELS_HIGH_FIRST


@dataclass(frozen=True)
class ReviewPage:
    review: Review
    tickets: list[int]
    known_tickets: dict[int, Ticket]
    trail: Sequence[AuditEvent]


def find_ticket(session: Session, portal_id: int) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.portal_id == portal_id))


def ticket_page(
    session: Session, ticket: Ticket, window_minutes: int, now: datetime
) -> TicketPage:
    state = ticket_state(session, ticket, window_minutes, now)
    return TicketPage(
        ticket=ticket,
        state=state,
        acknowledgement=_acknowledgement(session, state.escalation),
        assignee=assignees_of(session, [ticket.id]).get(ticket.id),
        call_backs=call_backs(ticket, state.escalation),
        calls=ticket_calls(session, ticket),
        reviews=session.scalars(
            select(Review)
            .where(Review.ticket_id == ticket.id)
            .order_by(Review.created_at.desc())
        ).all(),
        trail=session.scalars(
            select(AuditEvent)
            .where(AuditEvent.ticket_id == ticket.id)
            .options(selectinload(AuditEvent.portal_write))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        ).all(),
        leads=session.scalars(
            select(Lead).where(Lead.active.is_(True)).order_by(Lead.name)
        ).all(),
    )


def review_page(session: Session, review: Review) -> ReviewPage:
    numbers = review_tickets(review)
    tickets = session.scalars(select(Ticket).where(Ticket.portal_id.in_(numbers)))
    return ReviewPage(
        review=review,
        tickets=numbers,
        known_tickets={ticket.portal_id: ticket for ticket in tickets},
        trail=session.scalars(
            select(AuditEvent)
            .where(AuditEvent.review_id == review.id)
            .options(selectinload(AuditEvent.portal_write))
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        ).all(),
    )


def call_backs(ticket: Ticket, escalation: Escalation | None) -> list[CallBack]:
    """The numbers a lead may call back, in full: the only place they show."""
    found: list[CallBack] = []
    requester = ticket.requester
    if requester is not None:
        if requester.mobile_e164:
            found.append(CallBack("Requester's mobile", requester.mobile_e164))
        if requester.phone_e164:
            found.append(CallBack("Requester's phone", requester.phone_e164))
    caller = escalation.call.caller_e164 if escalation else None
    if caller and caller not in {entry.number for entry in found}:
        found.append(CallBack("Number of the confirming call", caller))
    return found


def ticket_calls(session: Session, ticket: Ticket) -> Sequence[Call]:
    """Calls about this ticket: typed on the keypad or from a number it knows."""
    numbers = list(numbers_of_ticket(session, ticket))
    return session.scalars(
        select(Call)
        .where(or_(Call.ticket_id == ticket.id, Call.caller_e164.in_(numbers)))
        .order_by(Call.received_at.desc())
        .limit(CALLS_SHOWN)
    ).all()


def _acknowledgement(
    session: Session, escalation: Escalation | None
) -> Acknowledgement | None:
    if escalation is None:
        return None
    return session.scalar(
        select(Acknowledgement).where(Acknowledgement.escalation_id == escalation.id)
    )

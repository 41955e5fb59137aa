"""The escalation queue as leads see it: five lists, one query each.

The dashboard renders these lists and ``GET /api/escalations`` returns
them as JSON, so both always show the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from escalation.models import (
    Acknowledgement,
    AuditEvent,
    Call,
    Escalation,
    Lead,
    Review,
    Ticket,
)
from escalation.phones import mask
from escalation.rule import Reason, urgent_request_clause

# Each list shows at most this many rows, newest or most pressing first.
LIMIT = 100
# Calls older than this drop off the unmatched list (they stay stored).
UNMATCHED_DAYS = 7

REASON_LABELS = {
    Reason.TYPED_BY_UNKNOWN_CALLER: "Ticket number typed by an unknown caller",
    Reason.CALL_AFTER_WINDOW: "Call after the window closed",
    Reason.SEVERAL_URGENT_REQUESTS: "Caller has several urgent tickets",
    Reason.CUSTOMER_URGENT_MATRIX_LOWER: "Customer says urgent, the matrix does not",
}


class QueueState(StrEnum):
    URGENT = "urgent"
    AWAITING_CALL = "awaiting_call"
    EXPIRED = "expired"
    UNMATCHED = "unmatched"
    REVIEW = "review"


@dataclass(frozen=True)
class UrgentRow:
    ticket: Ticket
    escalation: Escalation
    acknowledgement: Acknowledgement | None
    assignee: Lead | None


@dataclass(frozen=True)
class RequestRow:
    ticket: Ticket
    window_closes_at: datetime
    assignee: Lead | None


@dataclass(frozen=True)
class ReviewRow:
    review: Review
    tickets: list[int]

    @property
    def label(self) -> str:
        return reason_label(self.review.reason)


@dataclass(frozen=True)
class Queue:
    now: datetime
    urgent: list[UrgentRow]
    awaiting_call: list[RequestRow]
    expired: list[RequestRow]
    unmatched: Sequence[Call]
    review: list[ReviewRow]

    def counts(self) -> dict[str, int]:
        return {state.value: len(getattr(self, state.value)) for state in QueueState}


def reason_label(reason: str) -> str:
    try:
        return REASON_LABELS[Reason(reason)]
    except ValueError:
        return reason.replace("_", " ")


def load_queue(session: Session, window_minutes: int, now: datetime) -> Queue:
    """Every list at ``now``, with the window the rule uses."""
    span = timedelta(minutes=window_minutes)
    awaiting = _requests(session, now - span, newest_first=False, awaiting=True)
    expired = _requests(session, now - span, newest_first=True, awaiting=False)
    return Queue(
        now=now,
        urgent=urgent_rows(session),
        awaiting_call=_request_rows(session, awaiting, span),
        expired=_request_rows(session, expired, span),
        unmatched=unmatched_calls(session, now),
        review=review_rows(session),
    )


def urgent_rows(session: Session) -> list[UrgentRow]:
    """Confirmed urgent requests of open tickets, newest decision first."""
    pairs = session.execute(
        select(Escalation, Ticket)
        .join(Ticket, Escalation.ticket_id == Ticket.id)
        .where(
            Escalation.urgent_requested_at == Ticket.urgent_requested_at,
            urgent_request_clause(),
        )
        .order_by(Escalation.decided_at.desc(), Escalation.id.desc())
        .limit(LIMIT)
    ).all()
    acknowledgements = _acknowledgements(session, [e.id for e, _ in pairs])
    assignees = assignees_of(session, [ticket.id for _, ticket in pairs])
    return [
        UrgentRow(
            ticket=ticket,
            escalation=escalation,
            acknowledgement=acknowledgements.get(escalation.id),
            assignee=assignees.get(ticket.id),
        )
        for escalation, ticket in pairs
    ]


def unmatched_calls(session: Session, now: datetime) -> Sequence[Call]:
    """Recent calls that confirmed nothing and are not in front of a person."""
    confirmed = exists().where(Escalation.call_id == Call.id)
    reviewed = exists().where(Review.call_id == Call.id)
    return session.scalars(
        select(Call)
        .where(
            Call.received_at >= now - timedelta(days=UNMATCHED_DAYS),
            ~confirmed,
            ~reviewed,
        )
        .order_by(Call.received_at.desc(), Call.id.desc())
        .limit(LIMIT)
    ).all()


def review_rows(session: Session) -> list[ReviewRow]:
    reviews = session.scalars(
        select(Review)
        .where(Review.resolved_at.is_(None))
        .order_by(Review.created_at.desc(), Review.id.desc())
        .limit(LIMIT)
    ).all()
    return [ReviewRow(review=r, tickets=review_tickets(r)) for r in reviews]


def review_tickets(review: Review) -> list[int]:
    """The portal numbers of the tickets a review case is about."""
    if review.ticket is not None:
        return [review.ticket.portal_id]
    return [int(number) for number in review.detail.get("tickets", [])]


def assignees_of(session: Session, ticket_ids: Iterable[int]) -> dict[int, Lead]:
    """Each ticket's lead by its latest assignment."""
    ids = list(ticket_ids)
    if not ids:
        return {}
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "assign", AuditEvent.ticket_id.in_(ids))
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    latest: dict[int, Lead] = {}
    for event in events:
        if event.ticket_id is not None and event.assignee is not None:
            latest[event.ticket_id] = event.assignee
    return latest


def _requests(
    session: Session, boundary: datetime, *, newest_first: bool, awaiting: bool
) -> Sequence[Ticket]:
    """Unconfirmed urgent requests whose window is still open, or closed."""
    confirmed = exists().where(
        Escalation.ticket_id == Ticket.id,
        Escalation.urgent_requested_at == Ticket.urgent_requested_at,
    )
    statement: Select[tuple[Ticket]] = select(Ticket).where(
        urgent_request_clause(), Ticket.urgent_requested_at.is_not(None), ~confirmed
    )
    if awaiting:
        statement = statement.where(Ticket.urgent_requested_at >= boundary)
    else:
        statement = statement.where(Ticket.urgent_requested_at < boundary)
    order = Ticket.urgent_requested_at
    statement = statement.order_by(order.desc() if newest_first else order)
    return session.scalars(statement.limit(LIMIT)).all()


def _request_rows(
    session: Session, tickets: Sequence[Ticket], span: timedelta
) -> list[RequestRow]:
    assignees = assignees_of(session, [ticket.id for ticket in tickets])
    rows = []
    for ticket in tickets:
        assert ticket.urgent_requested_at is not None
        rows.append(
            RequestRow(
                ticket=ticket,
                window_closes_at=ticket.urgent_requested_at + span,
                assignee=assignees.get(ticket.id),
            )
        )
    return rows


def _acknowledgements(
    session: Session, escalation_ids: list[int]
) -> dict[int, Acknowledgement]:
    if not escalation_ids:
        return {}
    rows = session.scalars(
        select(Acknowledgement).where(Acknowledgement.escalation_id.in_(escalation_ids))
    )
    return {row.escalation_id: row for row in rows}


def queue_json(
    queue: Queue, state: QueueState, zone: ZoneInfo, base_url: str
) -> list[dict[str, Any]]:
    """One list of the queue, as ``GET /api/escalations`` returns it."""
    if state is QueueState.URGENT:
        return [_urgent_json(row, queue.now, zone, base_url) for row in queue.urgent]
    if state is QueueState.AWAITING_CALL:
        rows = queue.awaiting_call
        return [_request_json(row, queue.now, zone, base_url) for row in rows]
    if state is QueueState.EXPIRED:
        return [_request_json(row, queue.now, zone, base_url) for row in queue.expired]
    if state is QueueState.UNMATCHED:
        return [_call_json(call, zone) for call in queue.unmatched]
    return [_review_json(row, zone, base_url) for row in queue.review]


def ticket_url(base_url: str, portal_id: int) -> str:
    return f"{base_url}/dashboard/tickets/{portal_id}"


def _shown(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _urgent_json(
    row: UrgentRow, now: datetime, zone: ZoneInfo, base_url: str
) -> dict[str, Any]:
    escalation, ack = row.escalation, row.acknowledgement
    return {
        "ticket": row.ticket.portal_id,
        "subject": row.ticket.subject,
        "confirmed_at": _shown(escalation.decided_at, zone),
        "seconds_since_confirmation": _seconds(now - escalation.decided_at),
        "tied_by": escalation.tied_by,
        "outcome": escalation.outcome,
        "caller": mask(escalation.call.caller_e164 or escalation.call.caller_raw),
        "acknowledged_by": ack.lead.name if ack else None,
        "acknowledged_at": _shown(ack.at, zone) if ack else None,
        "assigned_to": row.assignee.name if row.assignee else None,
        "url": ticket_url(base_url, row.ticket.portal_id),
    }


def _request_json(
    row: RequestRow, now: datetime, zone: ZoneInfo, base_url: str
) -> dict[str, Any]:
    return {
        "ticket": row.ticket.portal_id,
        "subject": row.ticket.subject,
        "urgent_requested_at": _shown(row.ticket.urgent_requested_at, zone),
        "window_closes_at": _shown(row.window_closes_at, zone),
        "seconds_left": max(0, _seconds(row.window_closes_at - now)),
        "assigned_to": row.assignee.name if row.assignee else None,
        "url": ticket_url(base_url, row.ticket.portal_id),
    }


def _call_json(call: Call, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "call_sid": call.call_sid,
        "caller": mask(call.caller_e164 or call.caller_raw),
        "received_at": _shown(call.received_at, zone),
        "duration_seconds": call.duration_seconds,
        "voicemail_url": voicemail_url(call),
    }


def _review_json(row: ReviewRow, zone: ZoneInfo, base_url: str) -> dict[str, Any]:
    review = row.review
    call = review.call
    return {
        "review": review.id,
        "reason": review.reason,
        "reason_label": row.label,
        "tickets": row.tickets,
        "caller": mask(call.caller_e164 or call.caller_raw) if call else None,
        "opened_at": _shown(review.created_at, zone),
        "url": f"{base_url}/dashboard/reviews/{review.id}",
    }


def voicemail_url(call: Call) -> str | None:
    """The recording's address at Twilio, if the caller left a voicemail."""
    url = call.recording_url or ""
    return url if url.startswith("https://") else None

"""What a lead does on the dashboard: acknowledge, assign, confirm, decline.

Each action writes one audit event (who, when, what, why) and an outbox
entry that carries it to the portal as a private note, in the caller's
transaction. A lead's confirmation writes the same decision record the rule
writes, under the same unique key, so a lead and a late call never make two
escalations; a new one is pushed to the portal and announced as the rule's is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.db import locked, utcnow
from escalation.errors import EscalationError
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
from escalation.priority import Level
from escalation.queue_view import review_tickets
from escalation.rule import current_escalation, store_escalation

logger = logging.getLogger(__name__)

MAX_REASON_LENGTH = 2000


class ActionRefused(EscalationError):
    """The action cannot be taken; the message tells the lead why."""


@dataclass(frozen=True)
class Done:
    event: AuditEvent


def acknowledge(session: Session, lead: Lead, ticket: Ticket) -> Done:
    """Record that ``lead`` has taken the Urgent ticket on (once)."""
    escalation = _urgent_escalation(session, ticket)
    try:
        with session.begin_nested():
            session.add(Acknowledgement(escalation_id=escalation.id, lead_id=lead.id))
    except IntegrityError:
        earlier = session.scalar(
            select(Acknowledgement).where(
                Acknowledgement.escalation_id == escalation.id
            )
        )
        who = earlier.lead.name if earlier else "another lead"
        raise ActionRefused(
            f"Ticket {ticket.portal_id} was already acknowledged by {who}."
        ) from None

    return _record(
        session,
        lead,
        "acknowledge",
        ticket=ticket,
        call_id=escalation.call_id,
        escalation_id=escalation.id,
    )


def assign(
    session: Session, lead: Lead, ticket: Ticket, assignee: Lead, reason: str = ""
) -> Done:
    """Give the ticket to ``assignee``; the latest assignment counts."""
    if not assignee.active:
        raise ActionRefused(f"{assignee.name} is not an active lead.")
    return _record(
        session,
        lead,
        "assign",
        ticket=ticket,
        reason=reason.strip() or None,
        assignee_id=assignee.id,
        detail={"assignee": assignee.email},
    )


def confirm_review(
    session: Session,
    lead: Lead,
    review: Review,
    reason: str,
    window_minutes: int,
    chosen_ticket: int | None = None,
) -> Done:
    """Decide that the review case is Urgent: write the decision record."""
    why = _required_reason(reason)
    _check_open(session, review)
    ticket = _ticket_to_confirm(session, review, chosen_ticket)
    call = review.call
    if call is None:
        raise ActionRefused(
            f"Review {review.id} has no call; an escalation needs the call that "
            "confirms it."
        )

    escalation = current_escalation(session, ticket)
    created = escalation is None
    if escalation is None:
        escalation = _escalate(session, lead, review, ticket, call, why, window_minutes)
    review.resolved_at = utcnow()
    review.resolution = "confirmed"

    done = _record(
        session,
        lead,
        "confirm",
        ticket=ticket,
        reason=why,
        review_id=review.id,
        call_id=call.id,
        escalation_id=escalation.id,
        detail={"review_reason": review.reason, "new_escalation": created},
    )
    return done


def decline_review(session: Session, lead: Lead, review: Review, reason: str) -> Done:
    """Decide that the review case is not Urgent."""
    why = _required_reason(reason)
    _check_open(session, review)
    review.resolved_at = utcnow()
    review.resolution = "declined"
    return _record(
        session,
        lead,
        "decline",
        ticket=review.ticket,
        reason=why,
        review_id=review.id,
        call_id=review.call_id,
        detail={"review_reason": review.reason},
    )


def _record(
    session: Session,
    lead: Lead,
    action: str,
    *,
    ticket: Ticket | None,
    reason: str | None = None,
    detail: dict[str, Any] | None = None,
    **refs: int | None,
) -> Done:
    event = AuditEvent(
        lead_id=lead.id,
        action=action,
        reason=reason,
        ticket_id=ticket.id if ticket else None,
        detail=detail or {},
        at=utcnow(),
        **refs,
    )
    session.add(event)
    session.flush()
    outbox.add(session, "portal_action", event.id)
    logger.info(
        "lead action recorded action=%s lead=%s ticket=%s event=%s",
        action,
        lead.id,
        ticket.portal_id if ticket else None,
        event.id,
    )
    return Done(event=event)


def _required_reason(reason: str) -> str:
    why = (reason or "").strip()
    if not why:
        raise ActionRefused("Give a reason: it goes into the audit trail.")
    if len(why) > MAX_REASON_LENGTH:
        raise ActionRefused(
            f"The reason has {len(why)} characters; keep it under {MAX_REASON_LENGTH}."
        )
    return why


def _urgent_escalation(session: Session, ticket: Ticket) -> Escalation:
    escalation = current_escalation(session, ticket)
    if escalation is None or ticket.matrix_priority is not Level.URGENT:
        raise ActionRefused(
            f"Ticket {ticket.portal_id} is not Urgent; only an Urgent ticket "
            "can be acknowledged."
        )
    return escalation


def _check_open(session: Session, review: Review) -> None:
    session.refresh(review, with_for_update=True)
    if review.resolved_at is not None:
        raise ActionRefused(
            f"Review {review.id} was already decided ({review.resolution})."
        )


def _ticket_to_confirm(session: Session, review: Review, chosen: int | None) -> Ticket:
    candidates = review_tickets(review)
    if chosen is None and len(candidates) == 1:
        chosen = candidates[0]
    if chosen is None or chosen not in candidates:
        offered = ", ".join(str(number) for number in candidates) or "none"
        raise ActionRefused(
            f"Choose the ticket this call confirms; review {review.id} is about "
            f"tickets {offered}."
        )

    ticket = locked(session, Ticket, Ticket.portal_id == chosen)
    if ticket is None or not ticket.is_urgent_request:
        raise ActionRefused(
            f"Ticket {chosen} is not an open ticket with high impact and high "
            "urgency, so it cannot be Urgent: set both to High in the portal, "
            "then confirm."
        )
    return ticket


def _escalate(
    session: Session,
    lead: Lead,
    review: Review,
    ticket: Ticket,
    call: Call,
    reason: str,
    window_minutes: int,
) -> Escalation:
    assert ticket.urgent_requested_at is not None
    escalation = Escalation(
        ticket_id=ticket.id,
        call_id=call.id,
        urgent_requested_at=ticket.urgent_requested_at,
        window_minutes=window_minutes,
        tied_by="lead",
        outcome="confirmed_by_lead",
        inputs=_inputs(lead, review, ticket, call, reason),
    )
    escalation, created = store_escalation(session, ticket, escalation)
    if not created:
        return escalation
    logger.info(
        "ticket confirmed urgent by lead ticket=%s lead=%s review=%s",
        ticket.portal_id,
        lead.id,
        review.id,
    )
    return escalation


def _inputs(
    lead: Lead, review: Review, ticket: Ticket, call: Call, reason: str
) -> dict[str, Any]:
    assert ticket.urgent_requested_at is not None
    return {
        "status": ticket.status.value,
        "impact": ticket.impact.value,
        "urgency": ticket.urgency.value,
        "matrix_priority": ticket.matrix_priority.value,
        "customer_priority": (
            ticket.customer_priority.value if ticket.customer_priority else None
        ),
        "urgent_requested_at": ticket.urgent_requested_at.isoformat(),
        "call_sid": call.call_sid,
        "call_received_at": call.received_at.isoformat(),
        "caller": mask(call.caller_e164 or call.caller_raw),
        "call_offset_seconds": int(
            (call.received_at - ticket.urgent_requested_at).total_seconds()
        ),
        "review": review.id,
        "review_reason": review.reason,
        "lead": {"id": lead.id, "email": lead.email, "name": lead.name},
        "reason": reason,
    }

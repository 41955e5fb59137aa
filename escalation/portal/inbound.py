"""Tickets read from the portal's API, stored as webhook events are.

The upsert rules stay in ``escalation.portal_events``: newer wins, a repeat
or an older state changes nothing, a reopened ticket gets a new window.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.models import Ticket
from escalation.portal_events import (
    ContactData,
    Outcome,
    TicketData,
    upsert_contact,
    upsert_ticket,
)

logger = logging.getLogger(__name__)


def store_ticket(
    session: Session, data: TicketData, region: str, event: str | None = None
) -> Outcome:
    """Store a ticket read from the API.

    ``event`` is the webhook event that asked for it. A pull has none: a
    ticket it finds first is stored as created (its urgent request, if any,
    starts when it was created), a known one as updated. What the API does
    not carry (the product's name, the portal URL the webhook gave) is kept.
    """
    stored = session.scalar(select(Ticket).where(Ticket.portal_id == data.portal_id))
    if event is None:
        event = "ticket_updated" if stored is not None else "ticket_created"
    data = replace(data, event=event)
    if stored is not None:
        data = replace(
            data, product=data.product or stored.product, url=stored.url or data.url
        )

    outcome = upsert_ticket(session, data, region)
    unchanged = outcome in (Outcome.DUPLICATE, Outcome.STALE)
    if unchanged and stored is not None and stored.requester_id is None:
        if data.requester is not None:
            return _link_requester(session, stored, data.requester, region)
    return outcome


def _link_requester(
    session: Session, ticket: Ticket, requester: ContactData, region: str
) -> Outcome:
    """The webhook stored the ticket without its requester; add it now."""
    _, contact = upsert_contact(session, requester, region)
    ticket.requester_id = contact.id
    ticket.company_id = contact.company_id
    outbox.add(session, "evaluate_ticket", ticket.id)
    logger.info("ticket requester added ticket=%s", ticket.portal_id)
    return Outcome.UPDATED

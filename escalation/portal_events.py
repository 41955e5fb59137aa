"""Ticket and contact events from the portal: validate, then upsert.

The portal retries, delays and repeats its webhooks and signs nothing
with an event id, so ``updated_at`` orders them: an event that is not newer
than what is stored changes nothing.

An event that names a ticket or contact without the fields the rule needs
is not refused: a job fetches the rest from the portal's API (the webhook
itself never waits for the portal), and stores it through the same upsert.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.db import insert_or_ignore, locked
from escalation.errors import InvalidEvent
from escalation.models import Company, Contact, Ticket
from escalation.phones import mask, to_e164
from escalation.priority import (
    SLA_LEVELS,
    Level,
    Status,
    parse_level,
    parse_status,
)
from escalation.rule import open_tickets_for_number

logger = logging.getLogger(__name__)

# The largest id a BIGINT column holds.
MAX_ID = 2**63 - 1
# How far ahead of this machine's clock a portal's clock may run.
CLOCK_SKEW = timedelta(minutes=10)
# Longest text each field may carry (the columns' sizes); others take 255.
DEFAULT_FIELD_LIMIT = 255
FIELD_LIMITS = {
    "subject": 10_000,
    "url": 2_000,
    "type": 64,
    "priority": 16,
    "email": 320,
    "requester_email": 320,
    "phone": 64,
    "mobile": 64,
    "requester_phone": 64,
    "requester_mobile": 64,
    "language": 8,
    "requester_language": 8,
}
# How portals write UTC at the end of a time: 2026-12-04T09:12:05Z,
# 2026-12-04 09:12:05 UTC.
UTC_SUFFIXES = ("Z", " UTC", " GMT")
TICKET_EVENTS = ("ticket_created", "ticket_updated")
CONTACT_EVENTS = ("contact_created", "contact_updated")
CONTACT_FIELDS = frozenset({"name", "phone", "mobile", "company", "language"})
# Where a ticket event carries its requester's contact fields.
REQUESTER_FIELDS = {
    "email": "requester_email",
    "name": "requester_name",
    "phone": "requester_phone",
    "mobile": "requester_mobile",
    "company": "company",
    "language": "requester_language",
    "updated_at": "updated_at",
}


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    DUPLICATE = "duplicate"
    STALE = "stale"
    # Stored as far as the event allowed; a job fetches the rest.
    FETCHING = "fetching"


@dataclass(frozen=True)
class ContactData:
    email: str
    name: str | None
    phone: str | None
    mobile: str | None
    company: str | None
    updated_at: datetime
    language: str | None = None
    # The fields the event carried; a field it left out keeps its value.
    provided: frozenset[str] = frozenset()


@dataclass(frozen=True)
class TicketData:
    event: str
    portal_id: int
    subject: str
    type: str | None
    product: str | None
    application: str | None
    url: str | None
    status: Status
    impact: Level
    urgency: Level
    customer_priority: Level | None
    portal_priority: str | None
    created_at: datetime
    updated_at: datetime
    requester: ContactData | None


@dataclass(frozen=True)
class TicketRef:
    """A ticket event without impact, urgency or status: fetch the ticket."""

    event: str
    portal_id: int
    updated_at: datetime | None


@dataclass(frozen=True)
class ContactRef:
    """A contact event with the portal's contact id but no e-mail."""

    contact_id: int


PortalEvent = TicketData | ContactData | TicketRef | ContactRef


def parse_event(body: Any) -> PortalEvent:
    """Check a webhook body; InvalidEvent names the first field that is wrong."""
    if not isinstance(body, dict):
        raise InvalidEvent("the body must be a JSON object", status=400)
    event = str(body.get("event") or "").strip().lower()
    if event in TICKET_EVENTS:
        raw = _section(body, "ticket")
        if any(_text(raw, key) is None for key in ("impact", "urgency", "status")):
            return _ticket_ref(event, raw)
        return _ticket(event, raw)
    if event in CONTACT_EVENTS:
        raw = _section(body, "contact")
        if _text(raw, "email") is None and _text(raw, "id") is not None:
            return ContactRef(_portal_id(raw.get("id"), "contact.id"))
        return _contact(raw, prefix="contact.")
    allowed = ", ".join(TICKET_EVENTS + CONTACT_EVENTS)
    raise InvalidEvent(f"event is {body.get('event')!r}; allowed values are {allowed}")


def ticket_from_fields(event: str, raw: dict[str, Any]) -> TicketData:
    """A ticket from fields named as in the webhook template, from any source."""
    return _ticket(event, raw)


def contact_from_fields(raw: dict[str, Any], source: str) -> ContactData:
    """A contact from fields named as in the webhook template, from any source."""
    return _contact(raw, prefix=source)


def apply_event(session: Session, data: PortalEvent, region: str) -> Outcome:
    """Store the event; every ticket it changed gets evaluated by a job."""
    if isinstance(data, TicketRef):
        return _fetch_later(session, data)
    if isinstance(data, ContactRef):
        outbox.add(session, "fetch_contact", data.contact_id)
        return Outcome.FETCHING
    if isinstance(data, TicketData):
        outcome = upsert_ticket(session, data, region)
        if data.requester is None and outcome in _STORED:
            # The requester's numbers tie calls: fetch them from the portal.
            outbox.add(session, "fetch_ticket", data.portal_id, data.event)
        return outcome

    outcome, contact = upsert_contact(session, data, region)
    if outcome in (Outcome.DUPLICATE, Outcome.STALE):
        return outcome
    # A new number on a contact may tie calls already kept as evidence.
    tickets = {
        t.id for n in contact.numbers for t in open_tickets_for_number(session, n)
    }
    for ticket_id in sorted(tickets):
        outbox.add(session, "evaluate_ticket", ticket_id)
    return outcome


def upsert_ticket(session: Session, data: TicketData, region: str) -> Outcome:
    contact = None
    if data.requester is not None:
        _, contact = upsert_contact(session, data.requester, region)
    fields = _ticket_fields(data, contact)

    new_id = insert_or_ignore(
        session, Ticket, {**fields, "portal_id": data.portal_id}, "portal_id"
    )
    ticket = locked(session, Ticket, Ticket.portal_id == data.portal_id)
    assert ticket is not None
    if new_id is not None:
        if ticket.is_urgent_request:
            ticket.urgent_requested_at = _became_urgent_at(data)
        return _changed(session, Outcome.CREATED, ticket)

    if ticket.portal_updated_at >= data.updated_at:
        outcome = (
            Outcome.DUPLICATE
            if ticket.portal_updated_at == data.updated_at
            else Outcome.STALE
        )
        logger.info(
            "portal event ignored ticket=%s outcome=%s", data.portal_id, outcome
        )
        return outcome

    was_urgent = ticket.is_urgent_request
    for name, value in fields.items():
        setattr(ticket, name, value)
    if ticket.is_urgent_request and not was_urgent:
        ticket.urgent_requested_at = _became_urgent_at(data)
    return _changed(session, Outcome.UPDATED, ticket)


def upsert_contact(
    session: Session, data: ContactData, region: str
) -> tuple[Outcome, Contact]:
    fields = _contact_fields(session, data, region)
    new_id = insert_or_ignore(
        session, Contact, {**fields, "email": data.email}, "email"
    )
    contact = locked(session, Contact, Contact.email == data.email)
    assert contact is not None
    outcome = Outcome.CREATED
    if new_id is None:
        stored = contact.portal_updated_at
        if stored is not None and stored == data.updated_at:
            return Outcome.DUPLICATE, contact
        if stored is not None and stored > data.updated_at:
            return Outcome.STALE, contact
        for name, value in fields.items():
            setattr(contact, name, value)
        outcome = Outcome.UPDATED

    if contact.has_unusable_number:
        logger.warning(
            "contact number is not a valid phone number contact=%s phone=%s mobile=%s",
            contact.id,
            mask(contact.phone_raw),
            mask(contact.mobile_raw),
        )
    session.flush()
    return outcome, contact


def _contact_fields(session: Session, data: ContactData, region: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"portal_updated_at": data.updated_at}
    if "name" in data.provided:
        fields["name"] = data.name
    if "phone" in data.provided:
        fields.update(phone_raw=data.phone, phone_e164=to_e164(data.phone, region))
    if "mobile" in data.provided:
        fields.update(mobile_raw=data.mobile, mobile_e164=to_e164(data.mobile, region))
    if "company" in data.provided:
        fields["company_id"] = _company_id(session, data.company)
    if "language" in data.provided:
        fields["language"] = data.language
    return fields


_STORED = (Outcome.CREATED, Outcome.UPDATED)


def _fetch_later(session: Session, ref: TicketRef) -> Outcome:
    stored = session.scalar(
        select(Ticket.portal_updated_at).where(Ticket.portal_id == ref.portal_id)
    )
    if stored is not None and ref.updated_at is not None and stored >= ref.updated_at:
        outcome = Outcome.DUPLICATE if stored == ref.updated_at else Outcome.STALE
        logger.info("portal event ignored ticket=%s outcome=%s", ref.portal_id, outcome)
        return outcome

    outbox.add(session, "fetch_ticket", ref.portal_id, ref.event)
    logger.info("portal event names a ticket to fetch ticket=%s", ref.portal_id)
    return Outcome.FETCHING


def _changed(session: Session, outcome: Outcome, ticket: Ticket) -> Outcome:
    session.flush()
    outbox.add(session, "evaluate_ticket", ticket.id)
    logger.info(
        "ticket stored ticket=%s outcome=%s matrix=%s urgent_request=%s",
        ticket.portal_id,
        outcome,
        ticket.matrix_priority,
        ticket.is_urgent_request,
    )
    return outcome


def _became_urgent_at(data: TicketData) -> datetime:
    return data.created_at if data.event == "ticket_created" else data.updated_at


def _ticket_fields(data: TicketData, contact: Contact | None) -> dict[str, Any]:
    fields = {
        "subject": data.subject,
        "type": data.type,
        "product": data.product,
        "application": data.application,
        "url": data.url,
        "status": data.status,
        "impact": data.impact,
        "urgency": data.urgency,
        "customer_priority": data.customer_priority,
        "portal_priority": data.portal_priority,
        "portal_created_at": data.created_at,
        "portal_updated_at": data.updated_at,
    }
    # An event without its requester keeps the one already stored.
    if contact is not None:
        fields.update(requester_id=contact.id, company_id=contact.company_id)
    return fields


def _company_id(session: Session, name: str | None) -> int | None:
    if not name:
        return None
    insert_or_ignore(session, Company, {"name": name}, "name")
    return session.scalar(select(Company.id).where(Company.name == name))


def _section(body: dict[str, Any], name: str) -> dict[str, Any]:
    section = body.get(name)
    if not isinstance(section, dict):
        raise InvalidEvent(f"{name} must be a JSON object with the {name}'s fields")
    return section


def _ticket_ref(event: str, raw: dict[str, Any]) -> TicketRef:
    return TicketRef(
        event=event,
        portal_id=_portal_id(raw.get("id")),
        updated_at=_time(raw, "updated_at", "ticket.updated_at"),
    )


def _ticket(event: str, raw: dict[str, Any]) -> TicketData:
    updated_at = _required_time(raw, "updated_at", "ticket.updated_at")
    created_at = _time(raw, "created_at", "ticket.created_at") or updated_at
    customer = raw.get("priority_customer")
    email = _text(raw, "requester_email")
    requester = None
    if email:
        fields = {
            name: raw[key] for name, key in REQUESTER_FIELDS.items() if key in raw
        }
        requester = _contact(fields, prefix="ticket.requester_")

    return TicketData(
        event=event,
        portal_id=_portal_id(raw.get("id")),
        subject=_text(raw, "subject") or "",
        type=_text(raw, "type"),
        product=_text(raw, "product"),
        application=_text(raw, "application"),
        url=_text(raw, "url"),
        status=parse_status(raw.get("status")),
        impact=parse_level("ticket.impact", raw.get("impact"), SLA_LEVELS),
        urgency=parse_level("ticket.urgency", raw.get("urgency"), SLA_LEVELS),
        customer_priority=(
            parse_level("ticket.priority_customer", customer, tuple(Level))
            if customer not in (None, "")
            else None
        ),
        portal_priority=_text(raw, "priority"),
        created_at=created_at,
        updated_at=updated_at,
        requester=requester,
    )


def _contact(raw: dict[str, Any], prefix: str) -> ContactData:
    email = (_text(raw, "email") or "").lower()
    if "@" not in email:
        raise InvalidEvent(
            f"{prefix}email is {raw.get('email')!r}; give an e-mail address"
        )
    updated_at = _required_time(raw, "updated_at", f"{prefix}updated_at")
    return ContactData(
        email=email,
        name=_text(raw, "name"),
        phone=_text(raw, "phone"),
        mobile=_text(raw, "mobile"),
        company=_text(raw, "company"),
        updated_at=updated_at,
        language=_text(raw, "language"),
        provided=frozenset(raw) & CONTACT_FIELDS,
    )


def _portal_id(value: Any, field: str = "ticket.id") -> int:
    text = str(value).strip() if isinstance(value, str | int) else ""
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_ID:
        shown = "missing" if value in (None, "") else repr(value)
        what = "ticket number" if field == "ticket.id" else "contact id"
        raise InvalidEvent(f"{field} is {shown}; give the portal's {what}")
    return int(text)


def _text(raw: dict[str, Any], key: str) -> str | None:
    """A field as text; a list, an object or an overlong value is refused."""
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float):
        raise InvalidEvent(f"{key} must be text, not {type(value).__name__}")
    text = str(value).strip()
    limit = FIELD_LIMITS.get(key, DEFAULT_FIELD_LIMIT)
    if len(text) > limit:
        raise InvalidEvent(f"{key} is {len(text)} characters long; at most {limit}")
    return text or None


def _required_time(raw: dict[str, Any], key: str, field: str) -> datetime:
    moment = _time(raw, key, field)
    if moment is None:
        raise InvalidEvent(f"{field} is missing; give an ISO 8601 time in UTC")
    return moment


def _time(raw: dict[str, Any], key: str, field: str) -> datetime | None:
    value = raw.get(key)
    if value in (None, ""):
        return None
    text = str(value).strip()
    for utc in UTC_SUFFIXES:
        if text.endswith(utc):
            text = text.removesuffix(utc).rstrip() + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidEvent(
            f"{field} is {value!r}; give an ISO 8601 time such as 2026-12-04T09:12:05Z"
        ) from None
    if moment.tzinfo is None:
        raise InvalidEvent(f"{field} is {value!r}; it needs a zone, e.g. a final Z")
    if moment > datetime.now(UTC) + CLOCK_SKEW:
        # A time in the future would make every real event after it "stale".
        raise InvalidEvent(
            f"{field} is {value!r}, which is in the future; send the portal's "
            "own time of the change, in UTC or with its offset"
        )
    return moment.astimezone(UTC)

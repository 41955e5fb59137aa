"""What the service stores: contacts, tickets, calls, decisions, the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from escalation.db import Base, UTCDateTime, utcnow
from escalation.priority import Level, Status, matrix_priority


def _enum(kind: type[Level] | type[Status]) -> Enum:
    return Enum(
        kind,
        native_enum=False,
        length=16,
        values_callable=lambda members: [member.value for member in members],
    )


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)


class Contact(Base):
    """A portal requester; raw numbers kept for audit, E.164 for matching."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str | None] = mapped_column(String(255))
    phone_raw: Mapped[str | None] = mapped_column(String(64))
    phone_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    mobile_raw: Mapped[str | None] = mapped_column(String(64))
    mobile_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    language: Mapped[str | None] = mapped_column(String(8))
    portal_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company: Mapped[Company | None] = relationship()

    @property
    def numbers(self) -> set[str]:
        return {n for n in (self.phone_e164, self.mobile_e164) if n}

    @property
    def has_unusable_number(self) -> bool:
        """A number was given but does not parse: flagged for cleanup."""
        return bool(
            (self.phone_raw and not self.phone_e164)
            or (self.mobile_raw and not self.mobile_e164)
        )


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str | None] = mapped_column(String(64))
    product: Mapped[str | None] = mapped_column(String(255))
    application: Mapped[str | None] = mapped_column(String(255))
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(_enum(Status))
    impact: Mapped[Level] = mapped_column(_enum(Level))
    urgency: Mapped[Level] = mapped_column(_enum(Level))
    customer_priority: Mapped[Level | None] = mapped_column(_enum(Level))
    portal_priority: Mapped[str | None] = mapped_column(String(16))
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"))
    portal_created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    portal_updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When the ticket last became an urgent request; the window hangs on it.
    urgent_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    requester: Mapped[Contact | None] = relationship()
    company: Mapped[Company | None] = relationship()

    @property
    def matrix_priority(self) -> Level:
        return matrix_priority(self.impact, self.urgency)

    @property
    def is_urgent_request(self) -> bool:
        return self.status.is_open and self.matrix_priority is Level.URGENT


class Call(Base):
    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_raw: Mapped[str] = mapped_column(String(255), default="")
    caller_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    caller_withheld: Mapped[bool] = mapped_column(default=False)
    called: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    language: Mapped[str] = mapped_column(String(8), default="nl", server_default="nl")
    out_of_hours: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The ticket the caller typed or chose on the keypad, if any.
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", name="fk_calls_ticket_id_tickets")
    )
    ticket_tries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Status callbacks: the newest one applied, by Twilio's SequenceNumber.
    status_sequence: Mapped[int | None] = mapped_column(Integer)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    dial_status: Mapped[str | None] = mapped_column(String(32))
    dial_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recording_sid: Mapped[str | None] = mapped_column(String(64))
    recording_url: Mapped[str | None] = mapped_column(Text)
    recording_duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recording_status: Mapped[str | None] = mapped_column(String(32))

    ticket: Mapped[Ticket | None] = relationship()


class Escalation(Base):
    """The decision record: one per urgent request, never two."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("ticket_id", "urgent_requested_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    urgent_requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_minutes: Mapped[int] = mapped_column(Integer)
    tied_by: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    call: Mapped[Call] = relationship()

    @property
    def window_opens_at(self) -> datetime:
        return self.urgent_requested_at - timedelta(minutes=self.window_minutes)

    @property
    def window_closes_at(self) -> datetime:
        return self.urgent_requested_at + timedelta(minutes=self.window_minutes)


class Review(Base):
    """A case a person decides; one per reason, ticket and call."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    reason: Mapped[str] = mapped_column(String(48), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(32))

    ticket: Mapped[Ticket | None] = relationship()
    call: Mapped[Call | None] = relationship()


class OutboxEntry(Base):
    """Work a webhook committed together with its fact, for a job to do.

    The row is written in the webhook's transaction; a relay puts it on the
    queue, and the job marks it done in the same transaction as its effect.
    So a Redis outage delays the work and loses none of it.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(64))
    args: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    @property
    def job_id(self) -> str:
        return f"outbox-{self.id}"


class CompanyPhone(Base):
    """A company's own line (reception, on-call phone) from the directory.

    A call from it ties to the company's open tickets, as a colleague's
    number does.
    """

    __tablename__ = "company_phones"
    __table_args__ = (
        UniqueConstraint(
            "company_id", "phone_e164", name="uq_company_phones_company_id_phone"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        ForeignKey("companies.id", name="fk_company_phones_company_id_companies")
    )
    label: Mapped[str | None] = mapped_column(String(255))
    phone_raw: Mapped[str] = mapped_column(String(64))
    phone_e164: Mapped[str] = mapped_column(String(20), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company] = relationship()


class WriteState(StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"
    # Not written, on purpose: no portal configured, or the ticket closed.
    SKIPPED = "skipped"


class NoteState(StrEnum):
    NONE = "none"
    # Committed before the POST: the note may be in the portal even though
    # no answer came back, so a retry looks for it before posting again.
    SENDING = "sending"
    POSTED = "posted"


class PortalWrite(Base):
    """One write-back to the portal: a priority, then a private note.

    A lead's action writes a note only: its ``priority`` is None.

    Each step is committed as soon as it is done, so a retry repeats none of
    them. A refused request stays on record as it was sent and answered.
    """

    __tablename__ = "portal_writes"
    __table_args__ = (UniqueConstraint("key", name="uq_portal_writes_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # One write per escalation and kind, per audit event, or per ticket
    # state for a downgrade.
    key: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", name="fk_portal_writes_ticket_id_tickets"),
        index=True,
    )
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", name="fk_portal_writes_escalation_id_escalations")
    )
    audit_event_id: Mapped[int | None] = mapped_column(
        ForeignKey(
            "audit_events.id", name="fk_portal_writes_audit_event_id_audit_events"
        ),
        index=True,
    )
    priority: Mapped[str | None] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=WriteState.PENDING)
    priority_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note_state: Mapped[str] = mapped_column(String(16), default=NoteState.NONE)
    note_id: Mapped[int | None] = mapped_column(BigInteger)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The last request that failed, as sent and as answered.
    request_method: Mapped[str | None] = mapped_column(String(8))
    request_path: Mapped[str | None] = mapped_column(Text)
    request_body: Mapped[Any | None] = mapped_column(JSON)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )

    ticket: Mapped[Ticket] = relationship()
    escalation: Mapped[Escalation | None] = relationship()
    audit_event: Mapped[AuditEvent | None] = relationship()


class SyncCursor(Base):
    """How far a periodic pull from the portal got: its next run starts here."""

    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    # When the last run that finished had started.
    succeeded_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    tickets_seen: Mapped[int] = mapped_column(Integer, default=0)


class Lead(Base):
    """A support lead: works the queue on the dashboard, gets the alerts."""

    __tablename__ = "leads"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    # The number that gets the SMS alerts while this lead is on duty.
    on_duty_phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEvent(Base):
    """What a lead did, when and why: the trail on a ticket's page."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    action: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id"))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"))
    escalation_id: Mapped[int | None] = mapped_column(ForeignKey("escalations.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    lead: Mapped[Lead] = relationship(foreign_keys=[lead_id])
    assignee: Mapped[Lead | None] = relationship(foreign_keys=[assignee_id])
    ticket: Mapped[Ticket | None] = relationship()
    review: Mapped[Review | None] = relationship()
    # Carrying the action to the portal; None until the job has run.
    portal_write: Mapped[PortalWrite | None] = relationship(viewonly=True)


class Acknowledgement(Base):
    """A lead has taken an Urgent ticket on; one per escalation."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id"), unique=True
    )
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()


class Notification(Base):
    """One alert to one recipient on one channel about one event.

    The unique key is what makes "never twice" hold: a repeated event
    finds its row and sends nothing.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "event_key",
            "channel",
            "recipient",
            name="uq_notifications_event_channel_recipient",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "escalation:<id>" or "review:<id>".
    event_key: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_ref: Mapped[str | None] = mapped_column(String(128))

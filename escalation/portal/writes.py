"""Writing decisions back to the portal: a priority, then one private note.

Every write is a ``PortalWrite`` row: one per escalation, one per portal
state for a downgrade, and one per lead's action (a note, no priority).
Its steps are committed one at a time and no transaction stays open while
the portal answers: the priority once the portal took it, the note as
"sending" before the POST and "posted" after.
A retry repeats nothing on record as done, and where a note may have
reached the portal without its answer reaching the service (a timeout, a
worker killed mid-request), the retry looks for the note's reference before
posting. So a retry never posts a second note.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from escalation import outbox
from escalation.config import Settings
from escalation.db import Database, insert_or_ignore, utcnow
from escalation.errors import PortalError, PortalRefused, PortalRetryable
from escalation.models import (
    AuditEvent,
    Escalation,
    NoteState,
    PortalWrite,
    Ticket,
    WriteState,
)
from escalation.portal import make_portal
from escalation.portal.base import Portal
from escalation.portal.notes import (
    action_note,
    confirmed_note,
    downgrade_note,
    reference,
)
from escalation.priority import Level, portal_level
from escalation.rule import current_escalation

logger = logging.getLogger(__name__)

CONFIRMED = "confirmed"
DOWNGRADE = "downgrade"
ACTION = "action"


class PortalSync(StrEnum):
    """Whether the portal shows what the service decided for a ticket."""

    SYNCED = "synced"
    PENDING = "pending"
    FAILED = "failed"
    # Write-back is off: no portal is configured.
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Plan:
    write_id: int
    portal_id: int
    # None for a note-only write (a lead's action).
    level: Level | None
    note: str
    marker: str
    priority_done: bool
    note_state: NoteState


def escalation_write(session: Session, escalation_id: int) -> int | None:
    """The write for a confirmed escalation, made on first use."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        logger.warning("escalation to push not found escalation=%s", escalation_id)
        return None
    key = f"escalation:{escalation.id}:{CONFIRMED}"
    values = _new_write(key, CONFIRMED, escalation.ticket_id, Level.URGENT)
    return _write_id(session, {**values, "escalation_id": escalation.id})


def action_write(session: Session, audit_event_id: int) -> int | None:
    """The note-only write for a lead's action, made on first use.

    None when the event is gone or concerns no known ticket (a review case
    about a ticket number the service never saw): there is nothing to write to.
    """
    event = session.get(AuditEvent, audit_event_id)
    if event is None:
        logger.warning("audit event not found event=%s", audit_event_id)
        return None
    if event.ticket_id is None:
        logger.info(
            "lead action concerns no known ticket, nothing to write event=%s",
            event.id,
        )
        return None
    key = f"audit:{event.id}:{event.action}"
    values = _new_write(key, ACTION, event.ticket_id, None)
    return _write_id(session, {**values, "audit_event_id": event.id})


def request_downgrade(session: Session, settings: Settings, ticket_id: int) -> None:
    """Queue a downgrade when the portal shows Urgent and no call confirmed it.

    Keyed by the portal state that showed Urgent, so evaluating the same
    ticket again asks for nothing new.
    """
    portal = settings.portal
    if not (portal.enabled and portal.downgrade_unconfirmed):
        return
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not _shows_unconfirmed_urgent(session, ticket):
        return

    key = f"ticket:{ticket.id}:{DOWNGRADE}:{ticket.portal_updated_at.isoformat()}"
    values = _new_write(key, DOWNGRADE, ticket.id, Level.HIGH)
    write_id = insert_or_ignore(session, PortalWrite, values, "key")
    if write_id is not None:
        outbox.add(session, "downgrade_unconfirmed", write_id)
        logger.info(
            "portal shows urgent without a confirming call ticket=%s write=%s",
            ticket.portal_id,
            write_id,
        )


def carry_out(database: Database, settings: Settings, write_id: int) -> None:
    """Do what is left of a write; PortalRetryable when a retry may finish it.

    A refused request (4xx) is put on record as failed and not raised: no
    retry would change the portal's mind.
    """
    with database.transaction() as session:
        plan = _plan(session, settings, write_id)
    if plan is None:
        return

    try:
        _perform(database, make_portal(settings), plan)
    except PortalRefused as exc:
        record_failure(database, write_id, exc, final=True)
    except PortalRetryable as exc:
        record_failure(database, write_id, exc, final=False)
        raise


def record_failure(
    database: Database, write_id: int, error: PortalError, final: bool
) -> None:
    """Keep what was sent and what came back; ``final`` ends the write."""
    state = WriteState.FAILED if final else WriteState.PENDING
    _update(
        database,
        write_id,
        state=state,
        request_method=error.method or None,
        request_path=error.path or None,
        request_body=error.sent,
        response_status=error.status,
        response_body=error.answer,
        error=str(error),
    )
    log = logger.warning if final else logger.info
    log(
        "portal write %s write=%s method=%s path=%s status=%s error=%s",
        "failed" if final else "will be retried",
        write_id,
        error.method,
        error.path,
        error.status,
        error,
    )


def ticket_sync(session: Session, settings: Settings, ticket: Ticket) -> PortalSync:
    """Synced, pending or failed: what the portal shows against the decisions."""
    if not settings.portal.enabled:
        return PortalSync.SKIPPED
    writes = session.scalars(
        select(PortalWrite)
        .where(PortalWrite.ticket_id == ticket.id)
        .order_by(PortalWrite.id)
    ).all()
    if any(write.state == WriteState.PENDING for write in writes):
        return PortalSync.PENDING
    escalation = current_escalation(session, ticket)
    written = {write.escalation_id for write in writes}
    if escalation is not None and escalation.id not in written:
        return PortalSync.PENDING
    if writes and writes[-1].state == WriteState.FAILED:
        return PortalSync.FAILED
    return PortalSync.SYNCED


def _plan(session: Session, settings: Settings, write_id: int) -> Plan | None:
    write = session.get(PortalWrite, write_id)
    if write is None:
        logger.warning("portal write not found write=%s", write_id)
        return None
    if write.state != WriteState.PENDING:
        logger.info(
            "portal write already ended write=%s state=%s", write.id, write.state
        )
        return None
    reason = _skip_reason(session, settings, write)
    if reason is not None:
        write.state = WriteState.SKIPPED
        write.error = reason
        logger.warning(
            "portal write skipped write=%s ticket=%s reason=%s",
            write.id,
            write.ticket.portal_id,
            reason,
        )
        return None

    write.attempts += 1
    return Plan(
        write_id=write.id,
        portal_id=write.ticket.portal_id,
        level=Level(write.priority) if write.priority else None,
        note=_note(settings, write),
        marker=reference(write.key),
        priority_done=write.priority_set_at is not None,
        note_state=NoteState(write.note_state),
    )


def _skip_reason(
    session: Session, settings: Settings, write: PortalWrite
) -> str | None:
    ticket = write.ticket
    if not settings.portal.enabled:
        return "write-back is off: FRESHDESK_DOMAIN is not set"
    if not ticket.status.is_open:
        return f"the ticket is {ticket.status.value} and has left the queue"
    if write.kind == CONFIRMED:
        assert write.escalation is not None
        if write.escalation.urgent_requested_at != ticket.urgent_requested_at:
            return "the ticket has a newer urgent request than this escalation"
        return None
    if write.kind == ACTION:
        return None
    if not settings.portal.downgrade_unconfirmed:
        return "PORTAL_DOWNGRADE_UNCONFIRMED is off"
    if current_escalation(session, ticket) is not None:
        return "a call confirmed the ticket before the downgrade was written"
    return None


def _note(settings: Settings, write: PortalWrite) -> str:
    zone = settings.display_timezone
    if write.kind == ACTION:
        assert write.audit_event is not None
        return action_note(write.audit_event, zone, write.key)
    if write.kind == CONFIRMED:
        assert write.escalation is not None
        return confirmed_note(write.escalation, zone, write.key)
    return downgrade_note(settings.support_number, settings.window_minutes, write.key)


def _perform(database: Database, portal: Portal, plan: Plan) -> None:
    if plan.level is not None and not plan.priority_done:
        portal.update_priority(plan.portal_id, plan.level)
        _update(database, plan.write_id, priority_set_at=utcnow())

    if plan.note_state == NoteState.SENDING and portal.has_note(
        plan.portal_id, plan.marker
    ):
        logger.info(
            "note from an earlier try found, not posting again write=%s",
            plan.write_id,
        )
        _update(database, plan.write_id, note_state=NoteState.POSTED)
    elif plan.note_state != NoteState.POSTED:
        _update(database, plan.write_id, note_state=NoteState.SENDING)
        note_id = portal.add_private_note(plan.portal_id, plan.note)
        _update(database, plan.write_id, note_state=NoteState.POSTED, note_id=note_id)

    _finish(database, plan)


def _finish(database: Database, plan: Plan) -> None:
    with database.transaction() as session:
        write = session.get(PortalWrite, plan.write_id)
        assert write is not None
        write.state = WriteState.SYNCED
        write.error = None
        if plan.level is not None:
            write.ticket.portal_priority = plan.level.value
    logger.info(
        "portal written ticket=%s priority=%s write=%s",
        plan.portal_id,
        plan.level,
        plan.write_id,
    )


def _shows_unconfirmed_urgent(session: Session, ticket: Ticket) -> bool:
    if not ticket.status.is_open:
        return False
    if portal_level(ticket.portal_priority) is not Level.URGENT:
        return False
    return current_escalation(session, ticket) is None


def _write_id(session: Session, values: dict[str, Any]) -> int | None:
    """The id of the write under ``values["key"]``, stored now if it is new."""
    insert_or_ignore(session, PortalWrite, values, "key")
    return session.scalar(
        select(PortalWrite.id).where(PortalWrite.key == values["key"])
    )


def _new_write(
    key: str, kind: str, ticket_id: int, level: Level | None
) -> dict[str, Any]:
    now = utcnow()
    return {
        "key": key,
        "kind": kind,
        "ticket_id": ticket_id,
        "priority": level.value if level is not None else None,
        "state": WriteState.PENDING.value,
        "note_state": NoteState.NONE.value,
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }


def _update(database: Database, write_id: int, **values: Any) -> None:
    with database.transaction() as session:
        session.execute(
            update(PortalWrite)
            .where(PortalWrite.id == write_id)
            .values(**values, updated_at=utcnow())
        )

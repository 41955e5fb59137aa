"""The private notes the service writes to the portal, worded in one place.

Each note ends with a reference naming the write it belongs to; a retry
looks for that reference before it posts, so a note is never posted twice.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

import phonenumbers

from escalation.models import AuditEvent, Escalation
from escalation.phones import mask

TIES = {
    "requester": "the caller's number belongs to the requester",
    "company": "the caller's number belongs to the requester's company",
    "requester+keypad": (
        "the caller's number belongs to the requester, and the caller typed "
        "the ticket number"
    ),
    "company+keypad": (
        "the caller's number belongs to the requester's company, and the "
        "caller typed the ticket number"
    ),
    "lead": "a support lead tied the call to this ticket on the dashboard",
}


def reference(key: str) -> str:
    return f"[escalation-line ref {key}]"


def confirmed_note(escalation: Escalation, zone: ZoneInfo, key: str) -> str:
    call = escalation.call
    requested = escalation.urgent_requested_at
    lines = [
        f"Call: {shown(call.received_at, zone)} from "
        f"{mask(call.caller_e164 or call.caller_raw)}",
        f"Tied by: {tie_text(escalation.tied_by)}",
        f"Window: {shown(escalation.window_opens_at, zone)} to "
        f"{shown(escalation.window_closes_at, zone)}, "
        f"{escalation.window_minutes} minutes either side of the urgent "
        f"request at {shown(requested, zone)}",
    ]
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (
        "<p><strong>Urgent: confirmed by a call to the support line.</strong></p>"
        f"<ul>{items}</ul><p>{escape(reference(key))}</p>"
    )


def downgrade_note(support_number: str, minutes: int, key: str) -> str:
    number = phonenumbers.format_number(
        phonenumbers.parse(support_number),
        phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    )
    text = (
        "This desk handles a ticket as Urgent only when the customer also "
        f"calls the support line, {number}, within {minutes} minutes before "
        "or after marking it urgent (impact High and urgency High). No such "
        "call is tied to this ticket, so its priority is High. When the call "
        "comes in, the priority is set to Urgent automatically."
    )
    return (
        "<p><strong>Priority set to High: no confirming call.</strong></p>"
        f"<p>{escape(text)}</p><p>{escape(reference(key))}</p>"
    )


def action_note(event: AuditEvent, zone: ZoneInfo, key: str) -> str:
    """A lead's action: who did what, when and why, as the audit trail has it."""
    lines = [
        f"Lead: {event.lead.name}",
        f"When: {shown(event.at, zone)}",
    ]
    if event.assignee is not None:
        lines.append(f"Assigned to: {event.assignee.name}")
    if event.reason:
        lines.append(f"Why: {event.reason}")
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    headline = escape(action_headline(event))
    return (
        f"<p><strong>{headline}</strong></p>"
        f"<ul>{items}</ul><p>{escape(reference(key))}</p>"
    )


def action_headline(event: AuditEvent) -> str:
    who = event.lead.name
    if event.action == "acknowledge":
        return f"Acknowledged by {who}: a support lead has taken this ticket on."
    if event.action == "assign":
        assignee = event.assignee.name if event.assignee else "another lead"
        return f"Assigned to {assignee} by {who}."
    if event.action == "confirm":
        return f"Urgent: the review case was confirmed by {who}."
    if event.action == "decline":
        return f"Not Urgent: the review case was declined by {who}."
    return f"{event.action.capitalize()} by {who}."


def tie_text(tied_by: str) -> str:
    tie = tied_by.removeprefix("caller_id:")
    return TIES.get(tie, f"as recorded: {tied_by}")


def shown(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"

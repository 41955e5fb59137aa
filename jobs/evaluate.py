"""Evaluate the rule after a new call or a ticket change."""

from __future__ import annotations

from sqlalchemy.orm import Session

from escalation import rule
from escalation.config import Settings
from escalation.portal import writes


def evaluate_call(session: Session, settings: Settings, call_id: int) -> None:
    rule.evaluate_call(session, call_id, settings.window_minutes)


def evaluate_ticket(session: Session, settings: Settings, ticket_id: int) -> None:
    rule.evaluate_ticket(session, ticket_id, settings.window_minutes)
    # After the rule: a call that confirms the ticket now means no downgrade.
    writes.request_downgrade(session, settings, ticket_id)

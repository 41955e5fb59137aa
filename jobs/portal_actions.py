"""A lead's action on its way to the portal.

Until the portal adapter carries lead actions itself, this records that
the action waits for it: the audit event's portal state becomes
"pending", which the ticket page shows.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from escalation.config import Settings
from escalation.models import AuditEvent

logger = logging.getLogger(__name__)


def portal_action(session: Session, settings: Settings, audit_event_id: int) -> None:
    event = session.get(AuditEvent, audit_event_id)
    if event is None:
        logger.warning("audit event not found event=%s", audit_event_id)
        return
    if event.portal_state == "queued":
        event.portal_state = "pending"
    logger.info(
        "lead action waits for the portal adapter event=%s action=%s portal=%s",
        event.id,
        event.action,
        settings.portal.kind,
    )

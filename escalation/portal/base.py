"""What the service needs from a portal, whichever portal it is.

An adapter maps the portal's own values (numbers, custom field names) to
the service's types here and returns them; the rules for storing them stay
in ``escalation.portal_events``, the same for webhooks and API reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from escalation.portal_events import ContactData, TicketData
from escalation.priority import Level

__all__ = ["ContactData", "InvalidTicket", "Portal", "TicketData"]


@dataclass(frozen=True)
class InvalidTicket:
    """A ticket the portal holds that the rule cannot use, and why.

    Tickets that did not come in through the desk's form (an e-mail, say)
    have no impact or urgency; a pull skips them instead of failing.
    """

    portal_id: int
    reason: str


class Portal(Protocol):
    """A help desk the service reads tickets from and writes decisions to.

    Every method raises ``PortalRetryable`` when trying again later may
    work (rate limit, server error, timeout) and ``PortalRefused`` when the
    portal refused the request itself.
    """

    def get_ticket(self, portal_id: int) -> TicketData:
        """The ticket with its requester; InvalidEvent if the rule cannot use it."""
        ...

    def get_contact(self, contact_id: int) -> ContactData:
        """A contact by the portal's id; InvalidEvent if it has no e-mail."""
        ...

    def tickets_updated_since(
        self, since: datetime
    ) -> Iterator[TicketData | InvalidTicket]:
        """Every ticket changed since ``since``: all pages, requesters included."""
        ...

    def update_priority(self, portal_id: int, level: Level) -> None:
        """Set the ticket's priority; setting the same value twice is harmless."""
        ...

    def add_private_note(self, portal_id: int, body: str) -> int | None:
        """Add a note only agents see; the portal's id for it, if it said."""
        ...

    def has_note(self, portal_id: int, marker: str) -> bool:
        """Whether a note on the ticket contains ``marker``."""
        ...

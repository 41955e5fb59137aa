"""Portal adapters: reading tickets and contacts, writing decisions back.

A second portal (Zendesk, Jira Service Management) is one module that
implements ``Portal`` and one line in ``make_portal``.
"""

from __future__ import annotations

from escalation.config import Settings
from escalation.errors import ConfigError
from escalation.portal.base import InvalidTicket, Portal

__all__ = ["InvalidTicket", "Portal", "make_portal"]


def make_portal(settings: Settings) -> Portal:
    """The configured portal's client; ConfigError when none is configured."""
    portal = settings.portal
    if not portal.enabled:
        raise ConfigError(
            "FRESHDESK_DOMAIN is not set, so there is no portal to talk to; "
            "set FRESHDESK_DOMAIN and FRESHDESK_API_KEY"
        )
    if portal.kind == "freshdesk":
        from escalation.portal.freshdesk import FreshdeskPortal

        return FreshdeskPortal(portal)
    raise ConfigError(f"PORTAL_KIND {portal.kind!r} has no adapter; use freshdesk")

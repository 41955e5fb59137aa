"""HTTP entry points for Twilio and the portal.

Each one checks who sent the request before it reads the request, stores
what it was told, and answers; the slow work follows in jobs.
"""

from webhooks.portal import bp as portal_bp
from webhooks.twilio import bp as twilio_bp

__all__ = ["portal_bp", "twilio_bp"]

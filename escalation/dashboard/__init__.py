"""The support leads' dashboard, served at /dashboard by the same app."""

from escalation.dashboard.views import bp

__all__ = ["bp"]

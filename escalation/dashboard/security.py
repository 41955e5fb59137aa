"""Logins, session cookies and CSRF tokens for the dashboard.

Sessions are Flask's signed cookies, keyed by SECRET_KEY. Every form
carries a per-session token that a POST must echo; the cookie is
SameSite=Lax as well, but the token is what is relied on.
"""

from __future__ import annotations

import hmac
import logging
import posixpath
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask, abort, g, request, session
from sqlalchemy.orm import Session

from escalation.config import Settings
from escalation.models import Lead

logger = logging.getLogger(__name__)

SESSION_HOURS = 12
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def configure_sessions(app: Flask) -> None:
    """Cookie flags and key for the dashboard's sessions."""
    settings: Settings = app.config["SETTINGS"]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_NAME="escalation_session",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
    )


def log_in(lead: Lead) -> None:
    """Start a fresh session for ``lead``: nothing from before survives."""
    session.clear()
    session.permanent = True
    session["lead_id"] = lead.id
    logger.info("lead logged in lead=%s", lead.id)


def log_out() -> None:
    lead_id = session.get("lead_id")
    session.clear()
    logger.info("lead logged out lead=%s", lead_id)


def current_lead(db_session: Session) -> Lead | None:
    """The logged-in, still active lead of this request, or None."""
    if "lead" not in g:
        lead_id = session.get("lead_id")
        lead = db_session.get(Lead, lead_id) if isinstance(lead_id, int) else None
        g.lead = lead if lead is not None and lead.active else None
    return g.lead


def csrf_token() -> str:
    """This session's token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    """Refuse (400) a POST whose token is missing or not this session's."""
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    valid = isinstance(expected, str) and hmac.compare_digest(
        given.encode(), expected.encode()
    )
    if not valid:
        logger.warning(
            "csrf token refused path=%s had_token=%s", request.path, bool(given)
        )
        abort(
            400,
            description="The form's security token is missing or out of date. "
            "Go back, reload the page and try again.",
        )


def safe_next(target: str | None, default: str) -> str:
    """Where to go after logging in: a path on this dashboard, nothing else."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return default
    # Dot segments could climb out of /dashboard: judge the path they reach.
    path = posixpath.normpath(parts.path)
    if path != "/dashboard" and not path.startswith("/dashboard/"):
        return default
    return target

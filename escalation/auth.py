"""Who sent this request: Twilio's signature, the portal's shared secret."""

from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, request
from twilio.request_validator import RequestValidator

from escalation.config import Settings, get_settings

logger = logging.getLogger(__name__)


def signed_url(settings: Settings) -> str:
    """The URL Twilio signed: the public base when set, else this request's.

    The query string is taken raw from the environment: Werkzeug's
    ``request.url`` decodes percent-escapes, which changes what was signed.
    """
    if settings.public_base_url:
        base = settings.public_base_url + request.script_root + request.path
    else:
        base = request.base_url
    query = request.environ.get("QUERY_STRING", "")
    return f"{base}?{query}" if query else base


def twilio_signed(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request whose X-Twilio-Signature does not check out."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        settings = get_settings()
        signature = request.headers.get("X-Twilio-Signature", "")
        url = signed_url(settings)
        validator = RequestValidator(settings.twilio_auth_token)
        if not signature or not validator.validate(url, request.form, signature):
            logger.warning(
                "twilio signature refused path=%s has_signature=%s",
                request.path,
                bool(signature),
            )
            abort(403, description="The X-Twilio-Signature header is missing or wrong.")
        return view(*args, **kwargs)

    return wrapped


def portal_secret_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (401) a portal webhook without the shared secret header."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        expected = get_settings().portal_webhook_secret.encode()
        given = request.headers.get("X-Portal-Secret", "").encode()
        if not hmac.compare_digest(given, expected):
            logger.warning("portal secret refused path=%s", request.path)
            abort(401, description="The X-Portal-Secret header is missing or wrong.")
        return view(*args, **kwargs)

    return wrapped


def api_token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (401) an API call without ``Authorization: Bearer <API_TOKEN>``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        expected = get_settings().api_token.encode()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        given = token.strip().encode() if scheme.lower() == "bearer" else b""
        if not hmac.compare_digest(given, expected):
            abort(401, description="Send the header Authorization: Bearer <API_TOKEN>.")
        return view(*args, **kwargs)

    return wrapped

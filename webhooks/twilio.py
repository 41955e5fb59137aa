"""Twilio's voice webhooks: signed form posts that want TwiML back."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request

from escalation import outbox
from escalation.auth import twilio_signed
from escalation.calls import record_incoming_call
from escalation.config import get_settings
from escalation.db import get_session, utcnow
from escalation.errors import InvalidEvent
from escalation.voice import PROMPTS, greeting_text, say_and_hang_up

logger = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")


@bp.post("/voice")
@twilio_signed
def voice() -> Response:
    settings = get_settings()
    session = get_session()
    incoming = record_incoming_call(
        session, request.form, settings.default_region, utcnow()
    )
    text = greeting_text(incoming, settings)
    session.commit()

    outbox.dispatch(incoming.outbox_ids)
    return twiml(say_and_hang_up(text, settings))


@bp.errorhandler(InvalidEvent)
def invalid_request(error: InvalidEvent) -> tuple[str, int]:
    return str(error), error.status


@bp.errorhandler(Exception)
def apologise(error: Exception) -> Response | Exception:
    """Twilio gets TwiML, never a stack trace; the caller hears an apology."""
    if getattr(error, "code", None) is not None:
        return error  # an HTTP error such as the signature's 403
    current_app.logger.exception("twilio webhook failed path=%s", request.path)
    return twiml(say_and_hang_up(PROMPTS["apology"], get_settings()))


def twiml(xml: str) -> Response:
    return Response(xml, mimetype="text/xml")

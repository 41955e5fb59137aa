"""Twilio's voice webhooks: signed form posts that want TwiML back.

Each route verifies the signature, stores what Twilio told it, commits,
and answers. Twilio never gets a 500: a failure is logged and the caller
hears an apology (and is put through, when a number is on duty).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from escalation import call_flow, calls, http_error
from escalation.auth import twilio_signed
from escalation.config import get_settings
from escalation.db import get_session, utcnow
from escalation.errors import InvalidEvent
from escalation.models import Call
from escalation.rule import numbers_of_ticket
from escalation.voice import LANGUAGE_KEY, language_or, other_language

logger = logging.getLogger(__name__)

bp = Blueprint("twilio", __name__, url_prefix="/webhooks/twilio")


@bp.post("/voice")
@twilio_signed
def voice() -> Response:
    settings = get_settings()
    session = get_session()
    incoming = calls.record_incoming_call(session, request.form, settings, utcnow())
    answer = call_flow.greet(incoming, settings)
    session.commit()
    return twiml(answer)


@bp.post("/gather")
@twilio_signed
def gather() -> Response:
    settings = get_settings()
    session = get_session()
    call = calls.call_for_request(session, request.form, settings, utcnow())
    attempt = _attempt()
    typed = (request.form.get("Digits") or "").strip().rstrip("#")

    if not typed:
        answer = call_flow.no_input(call, attempt, settings)
    elif typed == LANGUAGE_KEY:
        call.language = other_language(
            language_or(call.language, settings.default_language)
        )
        answer = call_flow.language_switched(call, attempt, settings)
    else:
        ticket = calls.choose_ticket(session, call, typed)
        recognised = ticket is not None and call.caller_e164 in numbers_of_ticket(
            session, ticket
        )
        answer = call_flow.ticket_typed(
            call, ticket, typed, attempt, settings, recognised
        )
    session.commit()
    return twiml(answer)


@bp.post("/dial")
@twilio_signed
def dial() -> Response:
    settings = get_settings()
    session = get_session()
    call = calls.call_for_request(session, request.form, settings, utcnow())
    answered = calls.record_dial_result(call, request.form)
    answer = call_flow.dial_ended(call, answered, settings)
    session.commit()
    return twiml(answer)


@bp.post("/recording")
@twilio_signed
def recording() -> Response:
    settings = get_settings()
    session = get_session()
    call = calls.call_for_request(session, request.form, settings, utcnow())
    calls.record_voicemail(call, request.form)
    answer = call_flow.voicemail_saved(call, settings)
    session.commit()
    return twiml(answer)


@bp.post("/recording-status")
@twilio_signed
def recording_status() -> Response:
    _update_call(calls.record_voicemail)
    return twiml(EMPTY)


@bp.post("/status")
@twilio_signed
def status() -> Response:
    _update_call(calls.apply_status)
    return twiml(EMPTY)


@bp.post("/fallback")
@twilio_signed
def fallback() -> Response:
    """Twilio calls this when the voice URL failed: apologise, register, log."""
    settings = get_settings()
    logger.error(
        "voice url failed, fallback answered call_sid=%s error_code=%s error_url=%s",
        request.form.get("CallSid"),
        request.form.get("ErrorCode"),
        urlsplit(request.form.get("ErrorUrl") or "").path,  # no query: numbers
    )
    language = settings.default_language
    try:
        session = get_session()
        call = calls.call_for_request(session, request.form, settings, utcnow())
        language = call.language
        session.commit()
    except Exception:
        logger.exception("fallback could not register the call")
    return twiml(call_flow.apology(settings, language))


EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response />'


def _update_call(change: Callable[[Call, Mapping[str, str]], object]) -> None:
    settings = get_settings()
    session = get_session()
    call = calls.call_for_request(session, request.form, settings, utcnow())
    change(call, request.form)
    session.commit()


def _attempt() -> int:
    text = request.args.get("attempt", "1")
    valid = text.isascii() and text.isdigit() and 0 < int(text) < 10
    return int(text) if valid else 1


@bp.errorhandler(InvalidEvent)
def invalid_request(error: InvalidEvent) -> tuple[str, int]:
    return str(error), error.status


@bp.errorhandler(Exception)
def apologise(error: Exception) -> Response | tuple[Response, int]:
    """Twilio gets TwiML, never a stack trace; the caller hears an apology."""
    if isinstance(error, HTTPException):
        return http_error(error)  # such as the signature's 403
    logger.exception("twilio webhook failed path=%s", request.path)
    try:
        get_session().rollback()
    except Exception:
        logger.exception("rollback after a failed twilio webhook failed too")
    return twiml(call_flow.apology(get_settings()))


def twiml(xml: str) -> Response:
    return Response(xml, mimetype="text/xml")

"""The portal's ticket and contact events (a Freshdesk automation webhook)."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from escalation.auth import portal_secret_required
from escalation.config import get_settings
from escalation.db import get_session
from escalation.errors import InvalidEvent
from escalation.portal_events import apply_event, parse_event

logger = logging.getLogger(__name__)

bp = Blueprint("portal", __name__, url_prefix="/webhooks")


@bp.post("/portal")
@portal_secret_required
def portal_event() -> tuple[Response, int]:
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # nesting deeper than any template makes
        body = None
    if body is None:
        raise InvalidEvent(
            "the body is not valid JSON; send the automation rule's JSON "
            "template with Content-Type: application/json",
            status=400,
        )
    data = parse_event(body)

    session = get_session()
    outcome = apply_event(session, data, get_settings().default_region)
    session.commit()
    return jsonify(outcome=outcome.value), 200


@bp.errorhandler(InvalidEvent)
def invalid_event(error: InvalidEvent) -> tuple[Response, int]:
    # The message quotes the refused value, which may be a phone number.
    field = str(error).split(" ", 1)[0]
    logger.info("portal event refused status=%s field=%s", error.status, field)
    return jsonify(error=str(error)), error.status

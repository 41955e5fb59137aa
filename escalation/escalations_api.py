"""``GET /api/escalations``: the leads' queue as JSON; and the API's OpenAPI."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from escalation.auth import api_token_required
from escalation.config import get_settings
from escalation.db import get_session, utcnow
from escalation.openapi import document
from escalation.queue_view import QueueState, load_queue, queue_json

bp = Blueprint("escalations_api", __name__, url_prefix="/api")

STATES = ", ".join(state.value for state in QueueState)


@bp.get("/escalations")
@api_token_required
def escalations() -> Response:
    raw = request.args.get("state", "")
    try:
        state = QueueState(raw)
    except ValueError:
        shown = repr(raw) if raw else "missing"
        abort(400, description=f"state is {shown}; allowed values are {STATES}")

    settings = get_settings()
    now = utcnow()
    queue = load_queue(get_session(), settings.window_minutes, now)
    base_url = settings.public_base_url or request.host_url.rstrip("/")
    items = queue_json(queue, state, settings.display_timezone, base_url)
    return jsonify(
        state=state.value,
        at=now.astimezone(settings.display_timezone).isoformat(),
        count=len(items),
        items=items,
    )


@bp.get("/openapi.json")
def openapi() -> Response:
    """The API's description; public, like any API's documentation."""
    base_url = get_settings().public_base_url or request.host_url.rstrip("/")
    return jsonify(document(base_url))

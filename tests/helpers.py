"""Speaking as Twilio and as the portal: signed form posts and JSON events."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

TWILIO_TOKEN = "test-twilio-auth-token"
PORTAL_SECRET = "test-portal-secret"
API_TOKEN = "test-api-token"
SECRET_KEY = "test-session-secret-key"
BASE_URL = "http://localhost"
SUPPORT_NUMBER = "+31591200360"
FIXTURES = Path(__file__).parent / "fixtures"

_sids = itertools.count(1)


def load_fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def new_call_sid() -> str:
    return f"CA{next(_sids):032x}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def post_twilio(
    client: FlaskClient,
    path: str,
    params: dict[str, str],
    *,
    token: str = TWILIO_TOKEN,
    signed_url: str | None = None,
    headers: dict[str, str] | None = None,
    base_url: str = BASE_URL,
) -> TestResponse:
    """POST as Twilio does: form-encoded, signed over the full URL."""
    url = signed_url or base_url + path
    all_headers = {"X-Twilio-Signature": sign(url, params, token), **(headers or {})}
    return client.post(path, data=params, headers=all_headers, base_url=base_url)


def voice_params(caller: str, call_sid: str | None = None) -> dict[str, str]:
    params = dict(load_fixture("twilio/incoming-call-known-caller.json")["params"])
    params.update(CallSid=call_sid or new_call_sid(), From=caller, Caller=caller)
    return params


def call_in(
    client: FlaskClient, caller: str, call_sid: str | None = None
) -> TestResponse:
    return post_twilio(client, "/webhooks/twilio/voice", voice_params(caller, call_sid))


def ticket_event(
    at: datetime,
    *,
    portal_id: int = 48213,
    event: str = "ticket_created",
    impact: str = "High",
    urgency: str = "High",
    status: str = "Open",
    created_at: datetime | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A filled-in automation webhook, as the README's template produces."""
    body = load_fixture("freshdesk/automation-webhook.json")["body"]
    ticket = dict(body["ticket"])
    ticket.update(
        id=portal_id,
        impact=impact,
        urgency=urgency,
        status=status,
        created_at=iso(created_at or at),
        updated_at=iso(at),
        **fields,
    )
    return {"event": event, "ticket": ticket}


def post_portal(
    client: FlaskClient, body: Any, secret: str | None = PORTAL_SECRET
) -> TestResponse:
    headers = {"X-Portal-Secret": secret} if secret is not None else {}
    return client.post("/webhooks/portal", json=body, headers=headers)


def get_ticket(client: FlaskClient, portal_id: int) -> TestResponse:
    return client.get(
        f"/api/tickets/{portal_id}", headers={"Authorization": f"Bearer {API_TOKEN}"}
    )

"""The OpenAPI 3.1 description of everything under /api.

Kept beside the code that answers, and checked against real answers by
tests/test_escalations_api.py, so the two cannot drift apart quietly.
"""

from __future__ import annotations

from typing import Any

from escalation.priority import SLA_LEVELS, Level, Status
from escalation.queue_view import QueueState
from escalation.rule import Reason, State

Schema = dict[str, Any]

TIME = "An instant in the desk's time zone (DISPLAY_TIMEZONE), offset included."


def _string(description: str = "", *, nullable: bool = False, **extra: Any) -> Schema:
    schema: Schema = {"type": ["string", "null"] if nullable else "string"}
    if description:
        schema["description"] = description
    return schema | extra


def _time(description: str = TIME, *, nullable: bool = False) -> Schema:
    return _string(description, nullable=nullable, format="date-time")


def _integer(description: str, *, nullable: bool = False) -> Schema:
    return {"type": ["integer", "null"] if nullable else "integer"} | {
        "description": description
    }


def _enum(values: list[str], description: str, *, nullable: bool = False) -> Schema:
    return _string(
        description, nullable=nullable, enum=[*values, None] if nullable else values
    )


def _object(properties: dict[str, Schema], description: str = "") -> Schema:
    schema: Schema = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
    }
    if description:
        schema["description"] = description
    return schema


def _ref(name: str, *, nullable: bool = False) -> Schema:
    ref: Schema = {"$ref": f"#/components/schemas/{name}"}
    return {"oneOf": [ref, {"type": "null"}]} if nullable else ref


LEVELS = [level.value for level in SLA_LEVELS]
PRIORITIES = [level.value for level in Level]
CALLER = "The caller's number, masked: country code and last three digits."
TICKET = "The ticket's number in the portal."
DASHBOARD_URL = "The dashboard page a lead acts on."

SCHEMAS: dict[str, Schema] = {
    "Error": _object({"error": _string("What was wrong, and how to fix it.")}),
    "Call": _object(
        {
            "call_sid": _string("Twilio's CallSid."),
            "caller": _string(CALLER),
            "received_at": _time(),
            "status": _string("Twilio's last CallStatus."),
        }
    ),
    "Decision": _object(
        {
            "outcome": _enum(["confirmed", "confirmed_by_lead"], "How it was decided."),
            "decided_at": _time(),
            "tied_by": _string(
                "caller_id:requester, caller_id:company, with +keypad when the "
                "caller also typed the number; lead when a lead confirmed it."
            ),
            "window_minutes": _integer("The window, each way, in minutes."),
            "window_opens_at": _time(),
            "window_closes_at": _time(),
            "inputs": {
                "type": "object",
                "description": "What the decision was made from, as recorded.",
            },
        }
    ),
    "Ticket": _object(
        {
            "ticket": _integer(TICKET),
            "subject": _string(),
            "status": _enum([status.value for status in Status], "Portal status."),
            "impact": _enum(LEVELS, "Impact SLA."),
            "urgency": _enum(LEVELS, "Urgency SLA."),
            "customer_priority": _enum(
                PRIORITIES, "The customer's own priority.", nullable=True
            ),
            "matrix_priority": _enum(PRIORITIES, "Impact x urgency in the matrix."),
            "effective_priority": _enum(
                PRIORITIES, "Urgent only with a confirming call; else at most high."
            ),
            "escalation": _object(
                {
                    "state": _enum([state.value for state in State], "Where it is."),
                    "urgent_requested_at": _time(nullable=True),
                    "window_opens_at": _time(nullable=True),
                    "window_closes_at": _time(nullable=True),
                }
            ),
            "confirming_call": _ref("Call", nullable=True),
            "decision": _ref("Decision", nullable=True),
            "portal_sync": _enum(
                ["synced", "pending", "failed", "skipped"],
                "Whether the portal shows what the service decided.",
                nullable=True,
            ),
        }
    ),
    "UrgentItem": _object(
        {
            "ticket": _integer(TICKET),
            "subject": _string(),
            "confirmed_at": _time(),
            "seconds_since_confirmation": _integer("Age of the decision."),
            "tied_by": _string("How the call was tied to the ticket."),
            "outcome": _enum(["confirmed", "confirmed_by_lead"], "Who decided."),
            "caller": _string(CALLER),
            "acknowledged_by": _string("The lead's name.", nullable=True),
            "acknowledged_at": _time(nullable=True),
            "assigned_to": _string("The lead's name.", nullable=True),
            "url": _string(DASHBOARD_URL, format="uri"),
        },
        "A confirmed Urgent ticket (state=urgent).",
    ),
    "RequestItem": _object(
        {
            "ticket": _integer(TICKET),
            "subject": _string(),
            "urgent_requested_at": _time(),
            "window_closes_at": _time(),
            "seconds_left": _integer("Until the window closes; 0 once expired."),
            "assigned_to": _string("The lead's name.", nullable=True),
            "url": _string(DASHBOARD_URL, format="uri"),
        },
        "An urgent request without its call (state=awaiting_call or expired).",
    ),
    "UnmatchedCall": _object(
        {
            "call_sid": _string("Twilio's CallSid."),
            "caller": _string(CALLER),
            "received_at": _time(),
            "duration_seconds": _integer("Length of the call.", nullable=True),
            "voicemail_url": _string(
                "The recording at Twilio, if a voicemail was left.",
                nullable=True,
                format="uri",
            ),
        },
        "A call of the last days that tied to no urgent request (state=unmatched).",
    ),
    "ReviewItem": _object(
        {
            "review": _integer("The review case's id."),
            "reason": _enum([reason.value for reason in Reason], "Why."),
            "reason_label": _string("The reason in words."),
            "tickets": {"type": "array", "items": {"type": "integer"}},
            "caller": _string(CALLER, nullable=True),
            "opened_at": _time(),
            "url": _string(DASHBOARD_URL, format="uri"),
        },
        "An open case that needs a lead's decision (state=review).",
    ),
}

# Which item schema each state's list holds.
ITEM_SCHEMAS = {
    QueueState.URGENT: "UrgentItem",
    QueueState.AWAITING_CALL: "RequestItem",
    QueueState.EXPIRED: "RequestItem",
    QueueState.UNMATCHED: "UnmatchedCall",
    QueueState.REVIEW: "ReviewItem",
}

SCHEMAS["EscalationList"] = _object(
    {
        "state": _enum([state.value for state in QueueState], "The list asked for."),
        "at": _time("When the list was read. " + TIME),
        "count": _integer("Number of items (at most 100)."),
        "items": {
            "type": "array",
            "items": {
                "oneOf": [_ref(name) for name in dict.fromkeys(ITEM_SCHEMAS.values())]
            },
        },
    }
)


def _error(description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }


def _ok(schema: str, description: str) -> Schema:
    return {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


PATHS: dict[str, Schema] = {
    "/api/tickets/{portal_id}": {
        "get": {
            "operationId": "getTicket",
            "summary": "A ticket's priority, escalation state and decision.",
            "parameters": [
                {
                    "name": "portal_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                    "description": TICKET,
                }
            ],
            "responses": {
                "200": _ok("Ticket", "The ticket as the service sees it."),
                "401": _error("No or a wrong API token."),
                "404": _error("The service knows no such ticket."),
            },
        }
    },
    "/api/escalations": {
        "get": {
            "operationId": "listEscalations",
            "summary": "One list of the leads' escalation queue.",
            "parameters": [
                {
                    "name": "state",
                    "in": "query",
                    "required": True,
                    "schema": _enum(
                        [state.value for state in QueueState], "Which list."
                    ),
                    "description": "urgent: confirmed; awaiting_call: inside the "
                    "window; expired: window closed without a call; unmatched: "
                    "calls tied to no urgent request; review: open review cases.",
                }
            ],
            "responses": {
                "200": _ok("EscalationList", "The list, most pressing first."),
                "400": _error("The state is missing or unknown."),
                "401": _error("No or a wrong API token."),
            },
        }
    },
}


def document(server_url: str) -> dict[str, Any]:
    """The whole OpenAPI document, served from ``server_url``."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Urgent escalation line API",
            "version": "1",
            "description": "Read-only access to tickets and the escalation "
            "queue. Phone numbers are masked; times are in the desk's zone.",
        },
        "servers": [{"url": server_url}],
        "security": [{"apiToken": []}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "apiToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Authorization: Bearer <API_TOKEN>",
                }
            },
        },
    }

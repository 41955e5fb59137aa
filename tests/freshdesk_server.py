"""A Freshdesk-compatible API on loopback, for tests that talk to a portal.

It holds tickets, contacts, companies and notes in the shapes of
tests/fixtures/freshdesk/ and REFERENCE.md section 3, checks Basic auth
(API key and "X"), records every request, and can be told to answer a path
with a rate limit, a server error, a slow or a malformed answer, or a
refusal. It only ever listens on 127.0.0.1.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask
from sqlalchemy import func, select

from escalation.models import OutboxEntry
from escalation.queue import make_queue
from tests.conftest import run_jobs
from tests.helpers import load_fixture

API_KEY = "test-freshdesk-api-key"
LOOPBACK = "127.0.0.1"
TICKET = re.compile(r"^/api/v2/tickets/(\d+)$")
NOTES = re.compile(r"^/api/v2/tickets/(\d+)/notes$")
CONVERSATIONS = re.compile(r"^/api/v2/tickets/(\d+)/conversations$")
CONTACT = re.compile(r"^/api/v2/contacts/(\d+)$")
COMPANY = re.compile(r"^/api/v2/companies/(\d+)$")
TAGS = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    authorization: str | None
    body: Any
    at: float

    @property
    def api_key(self) -> str | None:
        """The user name of a Basic auth header whose password is X."""
        scheme, _, encoded = (self.authorization or "").partition(" ")
        if scheme != "Basic":
            return None
        user, _, password = base64.b64decode(encoded).decode().partition(":")
        return user if password == "X" else None


@dataclass(frozen=True)
class Reply:
    """A scripted answer; ``act`` does the real work first, then answers late."""

    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    act: bool = False


def rate_limited(retry_after: int = 1) -> Reply:
    body = '{"code": "rate_limit_exceeded"}'
    return Reply(429, body, {"Retry-After": str(retry_after)})


def server_error() -> Reply:
    return Reply(500, '{"code": "internal_error"}')


def slow(seconds: float) -> Reply:
    return Reply(delay=seconds, act=True)


def malformed() -> Reply:
    return Reply(200, '{"id": 48213, "subject": "Orderflow')


def refused(status: int = 400) -> Reply:
    body = {
        "description": "Validation failed",
        "errors": [{"field": "priority", "message": "Refused", "code": "invalid"}],
    }
    return Reply(status, json.dumps(body))


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FreshdeskServer:
    """``with FreshdeskServer() as portal:``; ``portal.url`` is its address."""

    def __init__(self, api_key: str = API_KEY) -> None:
        self.api_key = api_key
        self.tickets: dict[int, dict[str, Any]] = {}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.companies: dict[int, dict[str, Any]] = {}
        self.conversations: dict[int, list[dict[str, Any]]] = defaultdict(list)
        self.requests: list[Recorded] = []
        self._scripts: dict[tuple[str, str], deque[Reply]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._next_note = 9000
        self._http = ThreadingHTTPServer((LOOPBACK, 0), _Handler)
        self._http.daemon_threads = True
        self._http.portal = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FreshdeskServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def add_ticket(self, **fields: Any) -> dict[str, Any]:
        """The fixture's ticket, its requester and company, with ``fields``."""
        ticket = copy.deepcopy(load_fixture("freshdesk/ticket-v2.json")["ticket"])
        custom = fields.pop("custom_fields", {})
        ticket.update(fields)
        ticket["custom_fields"].update(custom)
        self.tickets[ticket["id"]] = ticket
        if ticket["requester_id"] not in self.contacts:
            self.add_contact(id=ticket["requester_id"])
        return ticket

    def add_contact(self, **fields: Any) -> dict[str, Any]:
        contact = copy.deepcopy(load_fixture("freshdesk/contact-v2.json")["contact"])
        contact.update(fields)
        self.contacts[contact["id"]] = contact
        company_id = contact.get("company_id")
        if company_id is not None and company_id not in self.companies:
            self.companies[company_id] = {
                "id": company_id,
                "name": "Voorbeeld Logistiek BV",
            }
        return contact

    def script(self, method: str, path: str, *replies: Reply) -> None:
        """Answer the next requests to ``method path`` with ``replies``, in turn."""
        self._scripts[(method, path)].extend(replies)

    def requests_to(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if (r.method, r.path) == (method, path)]

    def notes(self, ticket_id: int) -> list[dict[str, Any]]:
        return [c for c in self.conversations[ticket_id] if c["private"]]

    def handle(self, request: _Handler, method: str) -> None:
        parts = urlsplit(request.path)
        raw = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        recorded = Recorded(
            method=method,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            authorization=request.headers.get("Authorization"),
            body=_parsed(raw),
            at=time.monotonic(),
        )
        with self._lock:
            self.requests.append(recorded)
            scripted = self._scripts[(method, parts.path)]
            reply = scripted.popleft() if scripted else None

        if reply is not None and not reply.act:
            time.sleep(reply.delay)
            _send(request, reply.status, reply.body, reply.headers)
            return
        if recorded.api_key != self.api_key:
            body = {"code": "invalid_credentials", "message": "Log in first."}
            _send(request, 401, json.dumps(body))
            return
        with self._lock:
            status, answer = self._route(recorded)
        if reply is not None:
            time.sleep(reply.delay)
        _send(request, status, json.dumps(answer))

    def _route(self, request: Recorded) -> tuple[int, Any]:
        method, path, query = request.method, request.path, request.query
        if method == "GET" and path == "/api/v2/tickets":
            return 200, self._list_tickets(query)
        for pattern, verb, action in (
            (TICKET, "GET", self._get_ticket),
            (TICKET, "PUT", self._put_ticket),
            (NOTES, "POST", self._post_note),
            (CONVERSATIONS, "GET", self._list_conversations),
            (CONTACT, "GET", self._get_contact),
            (COMPANY, "GET", self._get_company),
        ):
            match = pattern.match(path)
            if match and method == verb:
                return action(int(match.group(1)), request)
        return 404, {"code": "not_found", "message": f"No route {method} {path}"}

    def _list_tickets(self, query: dict[str, str]) -> list[dict[str, Any]]:
        since = query.get("updated_since", "")
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 30))
        listed = sorted(
            (t for t in self.tickets.values() if t["updated_at"] >= since),
            key=lambda t: (t["created_at"], t["id"]),
            reverse=True,
        )
        start = (page - 1) * per_page
        return listed[start : start + per_page]

    def _get_ticket(self, ticket_id: int, _request: Recorded) -> tuple[int, Any]:
        if ticket_id not in self.tickets:
            return 404, {"code": "not_found"}
        return 200, self.tickets[ticket_id]

    def _put_ticket(self, ticket_id: int, request: Recorded) -> tuple[int, Any]:
        if ticket_id not in self.tickets:
            return 404, {"code": "not_found"}
        body = request.body if isinstance(request.body, dict) else {}
        if "priority" in body and body["priority"] not in (1, 2, 3, 4):
            return 400, {"description": "Validation failed", "field": "priority"}
        ticket = self.tickets[ticket_id]
        ticket.update(body)
        ticket["updated_at"] = now_iso()
        return 200, ticket

    def _post_note(self, ticket_id: int, request: Recorded) -> tuple[int, Any]:
        if ticket_id not in self.tickets:
            return 404, {"code": "not_found"}
        body = request.body if isinstance(request.body, dict) else {}
        if not isinstance(body.get("body"), str) or not body["body"]:
            return 400, {"description": "Validation failed", "field": "body"}
        self._next_note += 1
        note = {
            "id": self._next_note,
            "ticket_id": ticket_id,
            "body": body["body"],
            "body_text": TAGS.sub(" ", body["body"]),
            "private": body.get("private", True),
            "incoming": False,
            "created_at": now_iso(),
            "updated_at": now_iso(),
        }
        self.conversations[ticket_id].append(note)
        return 201, note

    def _list_conversations(self, ticket_id: int, request: Recorded) -> tuple[int, Any]:
        if ticket_id not in self.tickets:
            return 404, {"code": "not_found"}
        page = int(request.query.get("page", 1))
        per_page = int(request.query.get("per_page", 30))
        start = (page - 1) * per_page
        return 200, self.conversations[ticket_id][start : start + per_page]

    def _get_contact(self, contact_id: int, _request: Recorded) -> tuple[int, Any]:
        if contact_id not in self.contacts:
            return 404, {"code": "not_found"}
        return 200, self.contacts[contact_id]

    def _get_company(self, company_id: int, _request: Recorded) -> tuple[int, Any]:
        if company_id not in self.companies:
            return 404, {"code": "not_found"}
        return 200, self.companies[company_id]


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.portal.handle(self, "GET")  # type: ignore[attr-defined]

    def do_PUT(self) -> None:  # noqa: N802
        self.server.portal.handle(self, "PUT")  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        self.server.portal.handle(self, "POST")  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _parsed(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


def _send(
    request: BaseHTTPRequestHandler,
    status: int,
    body: str,
    headers: dict[str, str] | None = None,
) -> None:
    data = body.encode()
    try:
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            request.send_header(name, value)
        request.end_headers()
        request.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up waiting, as a slow answer means it to


def portal_settings(server: FreshdeskServer, **extra: str) -> dict[str, str]:
    """Settings that point the service at ``server``, which must be loopback."""
    assert urlsplit(server.url).hostname == LOOPBACK, server.url
    return {
        "FRESHDESK_DOMAIN": server.url,
        "FRESHDESK_API_KEY": server.api_key,
        "PORTAL_TIMEOUT_SECONDS": "0.5",
        "PORTAL_RETRY_AFTER_WAIT_SECONDS": "2",
        **extra,
    }


def settle(app: Flask, rounds: int = 6) -> None:
    """Run jobs until no outbox entry waits; retries the scheduler holds stay."""
    database = app.extensions["escalation.db"]
    for _ in range(rounds):
        assert run_jobs(app) == 0, "a job failed; see the worker log above"
        with database.sessions() as session:
            waiting = session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.done_at.is_(None), OutboxEntry.enqueued_at.is_(None))
            )
        if not waiting:
            return


def scheduled(app: Flask) -> dict[str, datetime]:
    """Jobs the scheduler holds (retries), with when each is due."""
    registry = make_queue(app.config["SETTINGS"]).scheduled_job_registry
    return {
        job_id: registry.get_scheduled_time(job_id) for job_id in registry.get_job_ids()
    }


def release_scheduled(app: Flask) -> None:
    """Act as the scheduler once time has passed: queue every held job now."""
    registry = make_queue(app.config["SETTINGS"]).scheduled_job_registry
    for job_id in registry.get_job_ids():
        registry.requeue(job_id)

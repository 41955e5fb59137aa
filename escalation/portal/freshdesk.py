"""Freshdesk API v2, the first portal adapter.

Basic auth with the API key as user name and ``X`` as password, JSON both
ways, a timeout on every request. Freshdesk's numbers (priority 1..4,
status 2..5) and the names of its custom fields become the service's values
here and nowhere else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import requests

from escalation.config import PortalSettings
from escalation.errors import InvalidEvent, PortalRefused, PortalRetryable
from escalation.portal.base import InvalidTicket
from escalation.portal_events import (
    ContactData,
    TicketData,
    contact_from_fields,
    ticket_from_fields,
)
from escalation.priority import PORTAL_PRIORITY_NUMBERS, PORTAL_PRIORITY_OF_LEVEL, Level

logger = logging.getLogger(__name__)

API = "/api/v2"
PER_PAGE = 100
# A portal that never sends a short page would otherwise be read forever.
MAX_PAGES = 1000
# How much of an answer is kept on record with a failed request.
ANSWER_KEPT = 2000
# The wait when a 429 comes without a Retry-After the service can read.
DEFAULT_RETRY_AFTER = 60.0
CONTACT_KEYS = ("email", "name", "phone", "mobile", "language", "updated_at")


class FreshdeskPortal:
    """One client per job or pull; contacts and companies are cached for it."""

    def __init__(
        self, settings: PortalSettings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if settings.base_url is None:
            raise ValueError("a Freshdesk client needs FRESHDESK_DOMAIN")
        self.base_url = settings.base_url
        self.fields = settings.fields
        self.timeout = settings.timeout_seconds
        self.wait_limit = settings.retry_after_wait_seconds
        self.sleep = sleep
        self.http = requests.Session()
        self.http.auth = (settings.api_key, "X")
        self.http.headers["Accept"] = "application/json"
        self._contacts: dict[int, ContactData | None] = {}
        self._companies: dict[int, str | None] = {}

    def get_ticket(self, portal_id: int) -> TicketData:
        path = f"/tickets/{portal_id}"
        return self._ticket(_object(self._get(path), "GET", path))

    def get_contact(self, contact_id: int) -> ContactData:
        path = f"/contacts/{contact_id}"
        return self._contact(_object(self._get(path), "GET", path))

    def tickets_updated_since(
        self, since: datetime
    ) -> Iterator[TicketData | InvalidTicket]:
        query = {"updated_since": _iso(since), "per_page": PER_PAGE}
        for page in range(1, MAX_PAGES + 1):
            items = _list(self._get("/tickets", {**query, "page": page}), "/tickets")
            for raw in items:
                yield self._listed(raw)
            if len(items) < PER_PAGE:
                return
        raise PortalRetryable(
            f"the ticket list since {_iso(since)} ran past {MAX_PAGES} pages; "
            "the pull stops without moving its starting point"
        )

    def update_priority(self, portal_id: int, level: Level) -> None:
        number = PORTAL_PRIORITY_OF_LEVEL[level]
        self._send("PUT", f"/tickets/{portal_id}", {"priority": number})

    def add_private_note(self, portal_id: int, body: str) -> int | None:
        path = f"/tickets/{portal_id}/notes"
        answer = self._send("POST", path, {"body": body, "private": True})
        note_id = answer.get("id") if isinstance(answer, dict) else None
        return note_id if isinstance(note_id, int) else None

    def has_note(self, portal_id: int, marker: str) -> bool:
        path = f"/tickets/{portal_id}/conversations"
        for page in range(1, MAX_PAGES + 1):
            items = _list(self._get(path, {"page": page, "per_page": PER_PAGE}), path)
            if any(_mentions(item, marker) for item in items):
                return True
            if len(items) < PER_PAGE:
                return False
        return False

    def _listed(self, raw: Any) -> TicketData | InvalidTicket:
        ticket = _object(raw, "GET", "/tickets")
        try:
            return self._ticket(ticket)
        except InvalidEvent as exc:
            portal_id = ticket.get("id")
            return InvalidTicket(
                portal_id if isinstance(portal_id, int) else 0, str(exc)
            )

    def _ticket(self, raw: dict[str, Any]) -> TicketData:
        custom = raw.get("custom_fields")
        custom = custom if isinstance(custom, dict) else {}
        portal_id = raw.get("id")
        for setting, name in (
            ("PORTAL_FIELD_IMPACT", self.fields.impact),
            ("PORTAL_FIELD_URGENCY", self.fields.urgency),
        ):
            if custom.get(name) in (None, ""):
                raise InvalidEvent(
                    f"ticket {portal_id} has no value in custom field {name!r}; "
                    f"if the form names it differently, set {setting}"
                )

        level = PORTAL_PRIORITY_NUMBERS.get(str(raw.get("priority")))
        data = ticket_from_fields(
            "ticket_updated",
            {
                "id": portal_id,
                "subject": raw.get("subject"),
                "type": raw.get("type"),
                "status": raw.get("status"),
                "priority": level.value if level else None,
                "impact": custom.get(self.fields.impact),
                "urgency": custom.get(self.fields.urgency),
                "priority_customer": custom.get(self.fields.customer_priority),
                "application": custom.get(self.fields.application),
                "url": f"{self.base_url}/helpdesk/tickets/{portal_id}",
                "created_at": raw.get("created_at"),
                "updated_at": raw.get("updated_at"),
            },
        )
        return replace(data, requester=self._requester(raw.get("requester_id")))

    def _requester(self, contact_id: Any) -> ContactData | None:
        if not isinstance(contact_id, int):
            return None
        if contact_id not in self._contacts:
            try:
                self._contacts[contact_id] = self.get_contact(contact_id)
            except (PortalRefused, InvalidEvent) as exc:
                logger.warning(
                    "requester not usable contact=%s error=%s", contact_id, exc
                )
                self._contacts[contact_id] = None
        return self._contacts[contact_id]

    def _contact(self, raw: dict[str, Any]) -> ContactData:
        fields = {key: raw.get(key) for key in CONTACT_KEYS}
        company_id = raw.get("company_id")
        if company_id is None:
            fields["company"] = None
        elif (name := self._company_name(company_id)) is not None:
            fields["company"] = name
        # A company whose name could not be read is left out, so the
        # contact keeps the company it has.
        return contact_from_fields(fields, source="contact.")

    def _company_name(self, company_id: Any) -> str | None:
        if not isinstance(company_id, int):
            return None
        if company_id not in self._companies:
            path = f"/companies/{company_id}"
            try:
                name = _object(self._get(path), "GET", path).get("name")
            except PortalRefused as exc:
                logger.warning(
                    "company not readable company=%s error=%s", company_id, exc
                )
                name = None
            self._companies[company_id] = str(name) if name else None
        return self._companies[company_id]

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self._request("GET", path, params=params)
        try:
            return response.json()
        except ValueError:
            raise PortalRetryable(
                f"the portal answered GET {path} with a body that is not JSON",
                method="GET",
                path=_shown(path, params),
                status=response.status_code,
                answer=response.text[:ANSWER_KEPT],
            ) from None

    def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self._request(method, path, body=body)
        try:
            return response.json()
        except ValueError:
            # The portal said yes; the write is done whatever the body says.
            return None

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> requests.Response:
        response = self._once(method, path, params, body)
        if response.status_code == 429:
            delay = _retry_after(response)
            if delay <= self.wait_limit:
                logger.info(
                    "portal rate limit, waiting method=%s path=%s seconds=%s",
                    method,
                    path,
                    delay,
                )
                self.sleep(delay)
                response = self._once(method, path, params, body)

        _check(response, method, _shown(path, params), body)
        return response

    def _once(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None,
        body: dict[str, Any] | None,
    ) -> requests.Response:
        shown = _shown(path, params)
        started = time.monotonic()
        try:
            response = self.http.request(
                method,
                self.base_url + API + path,
                params=params,
                json=body,
                timeout=self.timeout,
            )
        except requests.Timeout:
            raise PortalRetryable(
                f"the portal did not answer {method} {shown} within {self.timeout:g} s",
                method=method,
                path=shown,
                sent=body,
            ) from None
        except requests.RequestException as exc:
            raise PortalRetryable(
                f"could not reach the portal for {method} {shown}: "
                f"{type(exc).__name__}",
                method=method,
                path=shown,
                sent=body,
            ) from None

        logger.debug(
            "portal answered method=%s path=%s status=%s ms=%d",
            method,
            shown,
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response


def _check(
    response: requests.Response,
    method: str,
    shown: str,
    body: dict[str, Any] | None,
) -> None:
    status = response.status_code
    if status < 400:
        return
    exchange: dict[str, Any] = {
        "method": method,
        "path": shown,
        "sent": body,
        "status": status,
        "answer": response.text[:ANSWER_KEPT],
    }
    if status == 429:
        delay = _retry_after(response)
        raise PortalRetryable(
            f"the portal rate-limited {method} {shown}; it asks to retry after "
            f"{delay:g} s",
            retry_after=delay,
            **exchange,
        )
    if status >= 500:
        raise PortalRetryable(
            f"the portal answered {status} to {method} {shown}", **exchange
        )
    raise PortalRefused(
        f"the portal refused {method} {shown} with {status}{_hint(status)}",
        **exchange,
    )


def _hint(status: int) -> str:
    if status == 401:
        return "; check FRESHDESK_API_KEY"
    if status == 403:
        return "; the API key's agent lacks the permission for this"
    if status == 404:
        return "; the portal does not hold it (deleted, or another account)"
    return ""


def _retry_after(response: requests.Response) -> float:
    raw = (response.headers.get("Retry-After") or "").strip()
    if raw.isdigit():
        return float(raw)
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if moment.tzinfo is None:
        return DEFAULT_RETRY_AFTER
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _object(value: Any, method: str, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PortalRetryable(
            f"the portal answered {method} {path} with JSON that is not an object",
            method=method,
            path=path,
            answer=str(value)[:ANSWER_KEPT],
        )
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise PortalRetryable(
            f"the portal answered GET {path} with JSON that is not a list",
            method="GET",
            path=path,
            answer=str(value)[:ANSWER_KEPT],
        )
    return value


def _mentions(item: Any, marker: str) -> bool:
    if not isinstance(item, dict):
        return False
    return any(marker in str(item.get(key) or "") for key in ("body_text", "body"))


def _shown(path: str, params: dict[str, Any] | None) -> str:
    full = API + path
    return f"{full}?{urlencode(params)}" if params else full


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

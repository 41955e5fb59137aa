"""The demo: a portal ticket and a phone call, played at a running service.

It speaks HTTP exactly as the portal's automation rule and Twilio do (the
shared secret, the signed form post), so a newcomer sees a ticket go from
High to Urgent without a Twilio account or a portal.

Every run files a new ticket for a new requester: the ticket number comes
from the clock and fills ``{ticket}`` and ``{line}`` (the mobile's last six
digits) in demo_scenario.json. The service ties a call to every urgent
ticket of the caller's number whose window holds it, so a second run from
one number within the window would meet the first run's ticket and call,
and leave the choice to a person instead of escalating.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import requests

from escalation.config import Settings
from escalation.errors import EscalationError
from escalation.simulator import (
    CallScript,
    SimulationError,
    TwilioSigner,
    direct_session,
    simulate_call,
)

logger = logging.getLogger(__name__)

SCENARIO_FILE = Path(__file__).with_name("demo_scenario.json")
PORTAL_PATH = "/webhooks/portal"
TICKET_PATH = "/api/tickets/{number}"
HEALTH_PATH = "/healthz"
REQUEST_TIMEOUT_SECONDS = 10
POLL_EVERY_SECONDS = 0.5
POLL_FOR_SECONDS = 30
# Ticket numbers are the clock's seconds, cut to eight digits.
TICKET_NUMBERS = 10**8

# The setting behind a refusal (401, 403) of each route.
SETTING_FOR_PATH = {
    PORTAL_PATH: "PORTAL_WEBHOOK_SECRET",
    "/api/": "API_TOKEN",
}

Scenario = dict[str, dict[str, str]]
TicketView = dict[str, Any]


class DemoFailed(EscalationError):
    """The demo cannot go on; the message is the one line the user reads."""


@dataclass(frozen=True)
class Service:
    """The running service, spoken to as the portal, Twilio and scripts do."""

    url: str
    settings: Settings
    http: requests.Session

    def post_event(self, event: dict[str, Any]) -> str:
        """Send a portal event with the shared secret; the stored outcome."""
        secret = {"X-Portal-Secret": self.settings.portal_webhook_secret}
        response = self.send("POST", PORTAL_PATH, json=event, headers=secret)
        return str(_json(response).get("outcome"))

    def check(self) -> None:
        """Fail early when nothing answers; a degraded health is no reason."""
        self.answer("GET", HEALTH_PATH)

    def ticket(self, number: int) -> TicketView:
        token = {"Authorization": f"Bearer {self.settings.api_token}"}
        path = TICKET_PATH.format(number=number)
        return _json(self.send("GET", path, headers=token))

    def send(self, method: str, path: str, **options: Any) -> requests.Response:
        """One request; DemoFailed when nobody answers or the answer is no."""
        response = self.answer(method, path, **options)
        if not response.ok:
            raise DemoFailed(refusal(method, path, response))
        return response

    def answer(self, method: str, path: str, **options: Any) -> requests.Response:
        """One request, whatever its status; DemoFailed when nobody answers."""
        url = self.url + path
        try:
            response = self.http.request(
                method, url, timeout=REQUEST_TIMEOUT_SECONDS, **options
            )
        except requests.RequestException as exc:
            raise DemoFailed(
                f"the service at {self.url} does not answer "
                f"({type(exc).__name__}); is `make run` running?"
            ) from None

        logger.debug(
            "request answered method=%s path=%s status=%s",
            method,
            path,
            response.status_code,
        )
        return response


def run_demo(settings: Settings, url: str) -> int:
    """Play the scenario at ``url``; 0 when the ticket became Urgent."""
    service = Service(url.rstrip("/"), settings, direct_session())
    try:
        play(service)
    except DemoFailed as exc:
        click.echo(f"demo failed: {exc}", err=True)
        return 1
    return 0


def play(service: Service) -> None:
    zone = service.settings.display_timezone
    number = int(time.time()) % TICKET_NUMBERS
    scenario = load_scenario(number)
    service.check()
    click.echo(f"Demo against {service.url}, times in {zone.key}.")

    file_ticket(service, ticket_event(scenario["ticket"], number))
    before = service.ticket(number)
    show_awaiting_call(before, zone)

    place_call(service, scenario["call"]["from"])

    after = wait_until_urgent(service, number)
    show_escalation(before, after, zone)


def load_scenario(number: int) -> Scenario:
    """The scenario's data, with this run's ticket number filled in."""
    raw = json.loads(SCENARIO_FILE.read_text(encoding="utf-8"))
    values = {"ticket": number, "line": f"{number % 10**6:06d}"}
    return {
        part: {key: text.format(**values) for key, text in fields.items()}
        for part, fields in raw.items()
    }


def ticket_event(template: dict[str, str], number: int) -> dict[str, Any]:
    """A ``ticket_created`` event as the README's automation template sends it."""
    now = iso_utc(datetime.now(UTC))
    fields = {**template, "id": number, "created_at": now, "updated_at": now}
    return {"event": "ticket_created", "ticket": fields}


def file_ticket(service: Service, event: dict[str, Any]) -> None:
    ticket = event["ticket"]
    click.echo(
        f"\n1. Portal: {ticket['requester_name']} files ticket {ticket['id']}, "
        f'"{ticket["subject"]}"\n'
        f"   impact {ticket['impact']}, urgency {ticket['urgency']}, "
        f"customer priority {ticket['priority_customer']}"
    )
    outcome = service.post_event(event)
    click.echo(f"   POST {PORTAL_PATH}: {outcome}")


def show_awaiting_call(view: TicketView, zone: ZoneInfo) -> None:
    priority = view["effective_priority"]
    escalation = view["escalation"]
    opens = clock(escalation["window_opens_at"], zone)
    closes = clock(escalation["window_closes_at"], zone)
    click.echo(
        f"\n2. API: ticket {view['ticket']} is {priority.capitalize()} "
        f"(matrix priority {view['matrix_priority']}), "
        f"escalation {escalation['state']}\n"
        f"   a call must come between {opens} and {closes}"
    )
    if priority != "high" or escalation["state"] != "awaiting_call":
        raise DemoFailed(
            f"ticket {view['ticket']} should be High and awaiting its call, "
            f"but the service says {priority}, {escalation['state']}"
        )


def place_call(service: Service, caller: str) -> None:
    """Play the whole call as Twilio would, printing what the caller hears."""
    click.echo("\n3. Twilio: the requester calls the support line")
    settings = service.settings
    signer = TwilioSigner(
        service.url, settings.twilio_auth_token, settings.public_base_url
    )
    script = CallScript(caller=caller, support_number=settings.support_number)
    try:
        simulate_call(signer, script, echo=lambda line: click.echo(f"   {line}"))
    except (SimulationError, requests.RequestException) as exc:
        raise DemoFailed(f"the call could not be played: {exc}") from None


def wait_until_urgent(service: Service, number: int) -> TicketView:
    """Poll the API until a worker has escalated the ticket."""
    click.echo("\n4. Worker: checks the call against the ticket")
    started = time.monotonic()
    while True:
        view = service.ticket(number)
        waited = time.monotonic() - started
        if view["effective_priority"] == "urgent":
            click.echo(f"   done after {waited:.1f} s")
            return view
        if waited >= POLL_FOR_SECONDS:
            raise DemoFailed(
                f"ticket {number} is still {view['effective_priority']} "
                f"({view['escalation']['state']}) after {POLL_FOR_SECONDS} s; "
                "is the worker running? (its log in `make run` says more)"
            )
        time.sleep(POLL_EVERY_SECONDS)


def show_escalation(before: TicketView, after: TicketView, zone: ZoneInfo) -> None:
    was = before["effective_priority"].capitalize()
    now = after["effective_priority"].capitalize()
    click.echo(
        f"\nTicket {after['ticket']}: {was} -> {now} "
        f"(escalation {after['escalation']['state']})"
    )
    show_call(after["confirming_call"], zone)
    show_decision(after["decision"], zone)


def show_call(call: dict[str, Any], zone: ZoneInfo) -> None:
    received = clock(call["received_at"], zone)
    click.echo(
        f"   confirming call: {call['call_sid']}\n"
        f"     from {call['caller']}, received {received}"
    )


def show_decision(decision: dict[str, Any], zone: ZoneInfo) -> None:
    inputs = decision["inputs"]
    decided = clock(decision["decided_at"], zone)
    opens = clock(decision["window_opens_at"], zone)
    closes = clock(decision["window_closes_at"], zone)
    requested = clock(inputs["urgent_requested_at"], zone)
    click.echo(
        f"   decision: {decision['outcome']} at {decided}, "
        f"tied by {decision['tied_by']}\n"
        f"     window {decision['window_minutes']} min each way: "
        f"{opens} to {closes}\n"
        f"     status {inputs['status']}, impact {inputs['impact']}, "
        f"urgency {inputs['urgency']}, matrix {inputs['matrix_priority']}, "
        f"customer {inputs['customer_priority']}\n"
        f"     urgent request at {requested}, "
        f"call {inputs['call_offset_seconds']} s after it"
    )


def refusal(method: str, path: str, response: requests.Response) -> str:
    message = (
        f"{method} {path} was refused: {response.status_code} "
        f"{_one_line(response.text)}"
    )
    settings = [v for k, v in SETTING_FOR_PATH.items() if path.startswith(k)]
    if response.status_code not in (401, 403) or not settings:
        return message
    return (
        f"{message} (run the demo with the service's environment and "
        f"instance folder, so that both use the same {settings[0]})"
    )


def clock(moment: str | None, zone: ZoneInfo) -> str:
    """An ISO time from the API, as a wall-clock time in ``zone``."""
    if not moment:
        return "(none)"
    local = datetime.fromisoformat(moment).astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise DemoFailed(
            f"{response.request.method} {response.url} answered with "
            f"something that is not a JSON object: {_one_line(response.text)}"
        )
    return body


def _one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."

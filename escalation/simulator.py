"""Play a whole call at a running service, as Twilio would, and print it.

Support leads use it to check the line after a change: it posts the signed
voice webhook, follows the TwiML it gets back (keypad input from the list
it was given, silence when the list runs out, forwarding with a chosen
result, a voicemail), sends the status callbacks, and prints what the
caller hears at each step. It talks only to the URL it is given.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin

import requests
from twilio.request_validator import RequestValidator

from escalation.phones import mask

# A loop in the TwiML (a Redirect to itself) must not run forever.
MAX_STEPS = 25
TIMEOUT_SECONDS = 15
SIMULATED_ACCOUNT = "AC" + "0" * 32


class SimulationError(Exception):
    """The service refused a request or answered something that is not TwiML."""


@dataclass
class TwilioSigner:
    """Signed form posts, exactly as Twilio sends them."""

    base_url: str
    auth_token: str
    signed_base_url: str | None = None
    session: requests.Session = field(default_factory=lambda: direct_session())

    def post(self, path: str, params: dict[str, str]) -> requests.Response:
        url = _join(self.base_url, path)
        signed = _join(self.signed_base_url or self.base_url, path)
        signature = RequestValidator(self.auth_token).compute_signature(signed, params)
        return self.session.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": signature},
            timeout=TIMEOUT_SECONDS,
        )


def direct_session() -> requests.Session:
    """HTTP straight to the given address: proxy settings must not reroute it."""
    session = requests.Session()
    session.trust_env = False
    return session


def _join(base: str, path: str) -> str:
    return urljoin(base.rstrip("/") + "/", path.lstrip("/"))


@dataclass
class CallScript:
    caller: str
    support_number: str
    keypad: list[str] = field(default_factory=list)
    dial_status: str = "completed"
    voicemail_seconds: int = 12
    call_sid: str = field(default_factory=lambda: "CA" + secrets.token_hex(16))


def simulate_call(
    signer: TwilioSigner, script: CallScript, echo: Callable[[str], None] = print
) -> list[str]:
    """Play the call; returns every sentence the caller heard, in order."""
    heard: list[str] = []
    keypad = iter(script.keypad)
    base = _params(script)
    echo(
        f"calling {script.support_number} as {mask(script.caller)} ({script.call_sid})"
    )

    path: str | None = "/webhooks/twilio/voice"
    extra: dict[str, str] = {"CallStatus": "ringing"}
    for _ in range(MAX_STEPS):
        if path is None:
            break
        root = _twiml(signer.post(path, base | extra), path)
        path, extra = _play(root, script, keypad, heard, echo)
    else:
        raise SimulationError(f"the call did not end within {MAX_STEPS} steps")

    _send_status_callbacks(signer, script, base)
    echo("call ended")
    return heard


def _play(
    root: ET.Element,
    script: CallScript,
    keypad: Iterator[str],
    heard: list[str],
    echo: Callable[[str], None],
) -> tuple[str | None, dict[str, str]]:
    """Run one TwiML document; where the call goes next, with what params."""
    for verb in root:
        if verb.tag == "Say":
            _hear(verb, heard, echo)
        elif verb.tag == "Gather":
            for say in verb.iter("Say"):
                _hear(say, heard, echo)
            digits = next(keypad, None)
            if digits:
                echo(f"  [keypad] {digits}")
                return verb.get("action"), {
                    "Digits": digits,
                    "CallStatus": "in-progress",
                }
            echo("  [keypad] (nothing)")
        elif verb.tag == "Redirect":
            return verb.text, {"CallStatus": "in-progress"}
        elif verb.tag == "Dial":
            echo(f"  [forwarded to {mask(verb.text)}: {script.dial_status}]")
            return verb.get("action"), {
                "DialCallStatus": script.dial_status,
                "DialCallDuration": "30" if script.dial_status == "completed" else "0",
                "CallStatus": "in-progress",
            }
        elif verb.tag == "Record":
            echo(f"  [voicemail: {script.voicemail_seconds} s recorded]")
            return verb.get("action"), _recording(script)
        elif verb.tag == "Hangup":
            return None, {}
    return None, {}


def _hear(say: ET.Element, heard: list[str], echo: Callable[[str], None]) -> None:
    text = (say.text or "").strip()
    heard.append(text)
    echo(f"  [{say.get('language', '?')}] {text}")


def _expect_ok(response: requests.Response, path: str) -> None:
    if response.status_code != 200:
        raise SimulationError(
            f"POST {path} answered {response.status_code}: {response.text[:200]}"
        )


def _twiml(response: requests.Response, path: str) -> ET.Element:
    _expect_ok(response, path)
    try:
        root = ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise SimulationError(f"POST {path} did not answer TwiML: {exc}") from None
    if root.tag != "Response":
        raise SimulationError(f"POST {path} answered <{root.tag}>, not <Response>")
    return root


def _params(script: CallScript) -> dict[str, str]:
    return {
        "AccountSid": SIMULATED_ACCOUNT,
        "ApiVersion": "2010-04-01",
        "CallSid": script.call_sid,
        "Direction": "inbound",
        "From": script.caller,
        "Caller": script.caller,
        "To": script.support_number,
        "Called": script.support_number,
    }


def _recording(script: CallScript) -> dict[str, str]:
    sid = "RE" + script.call_sid[2:]
    return {
        "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/"
        f"{SIMULATED_ACCOUNT}/Recordings/{sid}",
        "RecordingDuration": str(script.voicemail_seconds),
        "CallStatus": "in-progress",
    }


def _send_status_callbacks(
    signer: TwilioSigner, script: CallScript, base: dict[str, str]
) -> None:
    for sequence, status in enumerate(("ringing", "in-progress", "completed")):
        extra = {"CallStatus": status, "SequenceNumber": str(sequence)}
        if status == "completed":
            extra["CallDuration"] = "45"
        _expect_ok(signer.post("/webhooks/twilio/status", base | extra), "status")

"""The call simulator plays whole calls over HTTP against a running service."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from escalation.models import Call, Escalation
from escalation.simulator import CallScript, TwilioSigner, simulate_call
from escalation.voice import PROMPTS
from tests.helpers import TWILIO_TOKEN, post_portal, ticket_event

NL = PROMPTS["nl"]


def test_simulated_call_from_a_known_caller_escalates(
    app, client, db, live_server, work
):
    post_portal(client, ticket_event(datetime.now(UTC)))
    lines: list[str] = []

    heard = simulate_call(
        TwilioSigner(live_server, TWILIO_TOKEN),
        CallScript(caller="+31612345678", support_number="+31591200360"),
        echo=lines.append,
    )
    work()

    assert heard[:2] == [NL["welcome"], NL["registered"].format(ticket="4 8 2 1 3")]
    assert NL["voicemail_saved"] in heard
    assert any("[nl-NL]" in line for line in lines)
    with db.sessions() as session:
        call = session.scalar(select(Call))
        assert (call.status, call.recording_duration_seconds) == ("completed", 12)
        assert session.scalar(select(Escalation)).call_id == call.id


def test_simulated_unknown_caller_types_a_number_after_silence(
    app, client, live_server
):
    post_portal(client, ticket_event(datetime.now(UTC)))

    heard = simulate_call(
        TwilioSigner(live_server, TWILIO_TOKEN),
        CallScript(
            caller="+31201112233", support_number="+31591200360", keypad=["", "48213"]
        ),
        echo=lambda _line: None,
    )

    assert NL["no_input"] in heard
    assert NL["registered_review"].format(ticket="4 8 2 1 3") in heard

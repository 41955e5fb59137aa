"""What a caller hears on each branch, read from the parsed TwiML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from escalation.models import Call, Escalation, Review
from escalation.voice import PROMPTS
from tests.helpers import (
    call_in,
    new_call_sid,
    post_portal,
    post_twilio,
    ticket_event,
    voice_params,
)
from tests.twiml import only, parse, spoken, texts, verbs

MOBILE = "+31612345678"
UNKNOWN = "+31201112233"
FORWARD = "+31207654321"
NOW = datetime.now(UTC).replace(microsecond=0)
NL, EN = PROMPTS["nl"], PROMPTS["en"]


def follow(client, url: str, call_sid: str, caller: str = MOBILE, **params: str):
    """Post to an action URL from our own TwiML, signed as Twilio signs it."""
    form = voice_params(caller, call_sid) | {"CallStatus": "in-progress"} | params
    return post_twilio(client, url, form)


def gather_url(root) -> str:
    return only(root, "Gather").get("action")


def stored_call(db, call_sid: str) -> Call:
    with db.sessions() as session:
        return session.scalar(select(Call).where(Call.call_sid == call_sid))


def test_caller_with_one_urgent_ticket_hears_it_and_is_put_through(make_app):
    client = make_app(FORWARD_NUMBER="020 765 4321").test_client()
    post_portal(client, ticket_event(NOW))

    root = parse(call_in(client, MOBILE))

    assert texts(root) == [
        NL["welcome"],
        NL["registered"].format(ticket="4 8 2 1 3"),
        NL["connecting"],
    ]
    assert {(s.language, s.voice) for s in spoken(root)} == {
        ("nl-NL", "Polly.Laura-Neural")
    }
    dial = only(root, "Dial")
    assert dial.text == FORWARD
    assert dial.get("callerId") == "+31591200360"
    assert dial.get("timeout") == "20"
    assert dial.get("action") == "/webhooks/twilio/dial?lang=nl"


def test_without_a_forward_number_the_caller_goes_to_voicemail(client):
    post_portal(client, ticket_event(NOW))
    root = parse(call_in(client, MOBILE))

    assert verbs(root) == ["Say", "Say", "Say", "Record", "Say", "Hangup"]
    record = only(root, "Record")
    assert record.get("maxLength") == "120"
    assert record.get("action") == "/webhooks/twilio/recording?lang=nl"
    assert record.get("recordingStatusCallback") == "/webhooks/twilio/recording-status"
    assert texts(root)[2] == NL["voicemail"]


def test_caller_with_several_open_tickets_is_asked_which(client):
    post_portal(client, ticket_event(NOW, portal_id=101, urgency="Medium"))
    post_portal(client, ticket_event(NOW, portal_id=102, urgency="Low"))
    root = parse(call_in(client, MOBILE))

    assert texts(root)[:3] == [
        NL["welcome"],
        NL["several_tickets"].format(count=2),
        NL["ask_ticket"],
    ]
    gather = only(root, "Gather")
    assert gather.get("finishOnKey") == "#"
    assert gather.get("input") == "dtmf"
    assert gather.get("action") == "/webhooks/twilio/gather?attempt=1&lang=nl"
    # Silence falls through to the verbs after the Gather.
    assert verbs(root) == ["Say", "Say", "Gather", "Redirect"]
    assert only(root, "Redirect").text == gather.get("action")


def test_known_caller_choosing_one_of_two_urgent_tickets_escalates_that_one(
    client, db, work
):
    post_portal(client, ticket_event(NOW, portal_id=201))
    post_portal(client, ticket_event(NOW, portal_id=202))
    sid = new_call_sid()
    root = parse(call_in(client, MOBILE, call_sid=sid))
    assert NL["several_tickets"].format(count=2) in texts(root)

    answer = parse(follow(client, gather_url(root), sid, Digits="202#"))
    assert NL["registered"].format(ticket="2 0 2") in texts(answer)
    work()

    with db.sessions() as session:
        escalation = session.scalar(select(Escalation))
        assert escalation.ticket.portal_id == 202
        assert escalation.tied_by == "caller_id:requester+keypad"


def test_unknown_caller_typing_a_ticket_goes_to_review_not_urgent(client, db, work):
    post_portal(client, ticket_event(NOW))
    sid = new_call_sid()
    root = parse(call_in(client, UNKNOWN, call_sid=sid))
    assert texts(root) == [NL["welcome"], NL["ask_ticket"], NL["language_hint"]]

    answer = parse(follow(client, gather_url(root), sid, UNKNOWN, Digits="48213"))
    assert NL["registered_review"].format(ticket="4 8 2 1 3") in texts(answer)
    work()

    with db.sessions() as session:
        assert session.scalar(select(Escalation)) is None
        review = session.scalar(select(Review))
        assert review.reason == "typed_by_unknown_caller"
        assert review.ticket.portal_id == 48213
        assert review.call.call_sid == sid


def test_withheld_caller_is_told_and_asked_for_the_ticket_number(client, db):
    sid = new_call_sid()
    root = parse(call_in(client, "anonymous", call_sid=sid))
    assert texts(root)[:3] == [NL["welcome"], NL["withheld"], NL["ask_ticket"]]
    assert stored_call(db, sid).caller_withheld is True


def test_a_number_that_is_no_open_ticket_may_be_tried_again_then_moves_on(
    make_app,
):
    client = make_app(MAX_TICKET_TRIES="2").test_client()
    sid = new_call_sid()
    root = parse(call_in(client, UNKNOWN, call_sid=sid))

    first = parse(follow(client, gather_url(root), sid, UNKNOWN, Digits="999"))
    assert texts(first)[:2] == [NL["not_open"].format(ticket="9 9 9"), NL["ask_ticket"]]

    second = parse(follow(client, gather_url(first), sid, UNKNOWN, Digits="998"))
    assert texts(second)[:2] == [
        NL["not_open"].format(ticket="9 9 8"),
        NL["no_ticket"].format(minutes=60),
    ]
    assert "Gather" not in verbs(second)
    assert "Record" in verbs(second)


@pytest.mark.parametrize("digits", [None, "", "#"])
def test_no_input_asks_once_more_then_continues_without_a_ticket(client, db, digits):
    sid = new_call_sid()
    root = parse(call_in(client, UNKNOWN, call_sid=sid))
    silence = {} if digits is None else {"Digits": digits}

    again = parse(follow(client, only(root, "Redirect").text, sid, UNKNOWN, **silence))
    assert texts(again)[:2] == [NL["no_input"], NL["ask_ticket"]]
    assert gather_url(again) == "/webhooks/twilio/gather?attempt=2&lang=nl"

    done = parse(follow(client, only(again, "Redirect").text, sid, UNKNOWN, **silence))
    assert texts(done)[:2] == [NL["no_input"], NL["no_ticket"].format(minutes=60)]
    assert stored_call(db, sid) is not None


def test_known_caller_without_a_ticket_hears_the_call_is_kept_as_evidence(client):
    post_portal(client, ticket_event(NOW, status="Resolved"))
    root = parse(call_in(client, MOBILE))
    assert texts(root)[:2] == [NL["welcome"], NL["no_ticket"].format(minutes=60)]


def test_star_switches_the_menu_to_english(client, db):
    sid = new_call_sid()
    root = parse(call_in(client, UNKNOWN, call_sid=sid))
    hint = spoken(root)[2]
    assert (hint.language, hint.text) == ("en-GB", NL["language_hint"])

    english = parse(follow(client, gather_url(root), sid, UNKNOWN, Digits="*"))
    assert texts(english) == [EN["ask_ticket"], EN["language_hint"]]
    assert spoken(english)[0].voice == "Polly.Amy-Neural"
    assert gather_url(english) == "/webhooks/twilio/gather?attempt=1&lang=en"
    assert stored_call(db, sid).language == "en"


def test_contact_language_from_the_portal_chooses_english(client):
    post_portal(client, ticket_event(NOW, requester_language="en"))
    root = parse(call_in(client, MOBILE))
    assert texts(root)[:2] == [
        EN["welcome"],
        EN["registered"].format(ticket="4 8 2 1 3"),
    ]


@pytest.mark.parametrize(
    ("dial_status", "expected"),
    [
        ("completed", ["Say", "Hangup"]),
        ("no-answer", ["Say", "Record", "Say", "Hangup"]),
        ("busy", ["Say", "Record", "Say", "Hangup"]),
    ],
)
def test_forwarding_result_is_recorded_and_unanswered_goes_to_voicemail(
    make_app, dial_status, expected
):
    app = make_app(FORWARD_NUMBER=FORWARD)
    client = app.test_client()
    post_portal(client, ticket_event(NOW))
    sid = new_call_sid()
    root = parse(call_in(client, MOBILE, call_sid=sid))
    dial_url = only(root, "Dial").get("action")

    answer = parse(
        follow(client, dial_url, sid, DialCallStatus=dial_status, DialCallDuration="0")
    )
    assert verbs(answer) == expected
    assert stored_call(app.extensions["escalation.db"], sid).dial_status == dial_status


def test_voicemail_recording_is_stored_with_the_call(client, db):
    post_portal(client, ticket_event(NOW))
    sid = new_call_sid()
    root = parse(call_in(client, MOBILE, call_sid=sid))
    record_url = only(root, "Record").get("action")
    recording = {
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE1",
        "RecordingDuration": "31",
        "RecordingSid": "RE" + "1" * 32,
    }

    saved = parse(follow(client, record_url, sid, **recording))
    assert texts(saved) == [NL["voicemail_saved"]]
    status = follow(
        client,
        "/webhooks/twilio/recording-status",
        sid,
        RecordingStatus="completed",
        **recording,
    )
    assert status.status_code == 200

    call = stored_call(db, sid)
    assert call.recording_url == recording["RecordingUrl"]
    assert call.recording_duration_seconds == 31
    assert call.recording_status == "completed"


def test_a_failing_flow_still_answers_twiml_with_an_apology(client, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("simulated fault")

    monkeypatch.setattr("escalation.call_flow.greet", broken)
    root = parse(call_in(client, MOBILE))
    assert texts(root) == [NL["apology"]]
    assert verbs(root)[-1] == "Hangup"


def test_fallback_apologises_registers_the_call_and_puts_through(make_app):
    app = make_app(FORWARD_NUMBER=FORWARD)
    client = app.test_client()
    sid = new_call_sid()
    form = voice_params(MOBILE, sid) | {"ErrorCode": "11200", "ErrorUrl": "https://x/"}

    root = parse(post_twilio(client, "/webhooks/twilio/fallback", form))

    assert texts(root)[0] == NL["apology"]
    assert only(root, "Dial").text == FORWARD
    assert stored_call(app.extensions["escalation.db"], sid) is not None


def test_a_call_missed_by_the_voice_url_is_registered_by_its_status_callback(
    client, db, work
):
    post_portal(client, ticket_event(NOW - timedelta(minutes=5)))
    sid = new_call_sid()
    follow(client, "/webhooks/twilio/status", sid, CallStatus="completed",
           SequenceNumber="2", CallDuration="40")  # fmt: skip
    work()

    call = stored_call(db, sid)
    assert (call.status, call.duration_seconds) == ("completed", 40)
    with db.sessions() as session:
        assert session.scalar(select(Escalation)) is not None


@pytest.mark.parametrize(
    "path",
    [
        "/webhooks/twilio/voice",
        "/webhooks/twilio/gather?attempt=1&lang=nl",
        "/webhooks/twilio/dial?lang=nl",
        "/webhooks/twilio/recording?lang=nl",
        "/webhooks/twilio/recording-status",
        "/webhooks/twilio/status",
        "/webhooks/twilio/fallback",
    ],
)
def test_every_twilio_route_refuses_a_forged_request_and_stores_nothing(
    client, db, path
):
    form = voice_params(MOBILE) | {"Digits": "48213", "CallStatus": "completed"}
    unsigned = client.post(path, data=form)
    forged = post_twilio(client, path, form, token="not-the-auth-token")

    assert (unsigned.status_code, forged.status_code) == (403, 403)
    with db.sessions() as session:
        assert session.scalars(select(Call)).all() == []


@pytest.mark.parametrize("value", ["a'b", "x@y", "+31612345678", "a b", "é"])
def test_action_urls_refuse_values_that_would_not_survive_signing(value):
    from escalation.voice import action_url

    with pytest.raises(ValueError, match="would not survive signing"):
        action_url("/webhooks/twilio/gather", ticket=value)


def test_action_url_keeps_safe_values_in_order():
    from escalation.voice import action_url

    url = action_url("/webhooks/twilio/gather", ticket=42, step="menu")
    assert url == "/webhooks/twilio/gather?ticket=42&step=menu"


def test_a_refused_signature_answers_a_json_error(client):
    response = client.post("/webhooks/twilio/voice", data=voice_params(MOBILE))
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.json["error"]


def test_a_database_failure_still_answers_twiml(client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    def unreachable(*_args, **_kwargs):
        raise OperationalError("INSERT INTO calls", {}, Exception("server closed"))

    monkeypatch.setattr("escalation.calls.record_incoming_call", unreachable)
    root = parse(call_in(client, MOBILE))
    assert texts(root) == [NL["apology"]]


@pytest.mark.parametrize("typed", ["²", "٤٨٢١٣", "1" * 40])
def test_odd_keypad_input_is_no_open_ticket_not_a_fault(client, typed):
    sid = new_call_sid()
    root = parse(call_in(client, UNKNOWN, call_sid=sid))
    answer = parse(follow(client, gather_url(root), sid, UNKNOWN, Digits=typed))
    assert NL["not_open"].split("{")[0] in texts(answer)[0]


def test_an_odd_attempt_in_the_action_url_starts_from_the_first(client):
    sid = new_call_sid()
    call_in(client, UNKNOWN, call_sid=sid)
    answer = parse(
        follow(client, "/webhooks/twilio/gather?attempt=%C2%B2", sid, UNKNOWN)
    )
    assert gather_url(answer) == "/webhooks/twilio/gather?attempt=2&lang=nl"


def test_an_overlong_caller_id_is_kept_cut_to_size(client, db):
    sid = new_call_sid()
    assert call_in(client, "+31" + "6" * 5000, call_sid=sid).status_code == 200
    call = stored_call(db, sid)
    assert len(call.caller_raw) == 255 and call.caller_e164 is None

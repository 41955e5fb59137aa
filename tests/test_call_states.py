"""Status callbacks arrive twice and out of order; a call only moves forward."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from escalation.models import Call
from tests.helpers import call_in, new_call_sid, post_twilio, voice_params

MOBILE = "+31612345678"


def status(client, sid: str, call_status: str, sequence: str | None, **extra: str):
    form = voice_params(MOBILE, sid) | {"CallStatus": call_status, **extra}
    if sequence is not None:
        form["SequenceNumber"] = sequence
    return post_twilio(client, "/webhooks/twilio/status", form)


def stored(db, sid: str) -> Call:
    with db.sessions() as session:
        return session.scalar(select(Call).where(Call.call_sid == sid))


def test_callbacks_in_order_end_with_the_final_status_and_duration(client, db):
    sid = new_call_sid()
    call_in(client, MOBILE, call_sid=sid)
    status(client, sid, "ringing", "0")
    status(client, sid, "in-progress", "1")
    status(client, sid, "completed", "2", CallDuration="74")

    call = stored(db, sid)
    assert (call.status, call.status_sequence, call.duration_seconds) == (
        "completed",
        2,
        74,
    )


def test_a_late_callback_never_moves_a_finished_call_back(client, db):
    sid = new_call_sid()
    call_in(client, MOBILE, call_sid=sid)
    status(client, sid, "completed", "2", CallDuration="74")
    status(client, sid, "in-progress", "1")
    status(client, sid, "ringing", "0")

    assert stored(db, sid).status == "completed"


def test_a_duplicate_callback_changes_nothing(client, db):
    sid = new_call_sid()
    call_in(client, MOBILE, call_sid=sid)
    status(client, sid, "in-progress", "1")
    status(client, sid, "completed", "2", CallDuration="74")
    status(client, sid, "completed", "2", CallDuration="99")

    assert stored(db, sid).duration_seconds == 74


def test_without_sequence_numbers_the_timestamp_orders_callbacks(client, db):
    sid = new_call_sid()
    call_in(client, MOBILE, call_sid=sid)
    status(
        client, sid, "in-progress", None, Timestamp="Fri, 04 Dec 2026 09:16:00 +0000"
    )
    status(client, sid, "ringing", None, Timestamp="Fri, 04 Dec 2026 09:15:00 +0000")

    call = stored(db, sid)
    assert call.status == "in-progress"
    assert call.status_at.isoformat() == "2026-12-04T09:16:00+00:00"


def test_the_fixture_status_callback_completes_the_call(client, db):
    from tests.helpers import load_fixture

    form = load_fixture("twilio/status-completed.json")["params"]
    call_in(client, form["From"], call_sid=form["CallSid"])
    assert post_twilio(client, "/webhooks/twilio/status", form).status_code == 200

    call = stored(db, form["CallSid"])
    assert (call.status, call.duration_seconds) == ("completed", 74)


def test_a_callback_without_order_cannot_move_a_call_back(client, db):
    sid = new_call_sid()
    call_in(client, MOBILE, call_sid=sid)
    status(client, sid, "in-progress", "2")
    status(client, sid, "ringing", None)

    assert stored(db, sid).status == "in-progress"


@pytest.mark.parametrize(
    "odd",
    [
        {"SequenceNumber": "9" * 25},
        {"SequenceNumber": "²"},
        {"CallDuration": "²"},
        {"Timestamp": "Fri, 04 Dec 2026 16:00:20"},
        {"CallStatus": "completed" + "x" * 500},
    ],
    ids=[
        "huge-sequence",
        "superscript-sequence",
        "superscript-duration",
        "timestamp-without-zone",
        "overlong-status",
    ],
)
def test_odd_values_in_a_callback_never_lose_the_call(client, db, odd):
    sid = new_call_sid()
    form = voice_params(MOBILE, sid) | {"CallStatus": "completed"} | odd
    response = post_twilio(client, "/webhooks/twilio/status", form)

    assert response.status_code == 200
    call = stored(db, sid)
    assert call is not None
    assert call.status.startswith("completed")


def test_an_overlong_call_sid_is_refused_as_a_bad_request(client, db):
    response = status(client, "CA" + "0" * 300, "completed", "1")
    assert response.status_code == 400

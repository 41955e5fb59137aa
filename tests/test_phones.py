"""Caller IDs and contact numbers: one E.164 form, withheld callers, masks."""

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from escalation.models import Call, Contact, Escalation
from escalation.phones import mask, parse_caller_id, to_e164
from tests.helpers import (
    call_in,
    get_ticket,
    load_fixture,
    post_portal,
    post_twilio,
    ticket_event,
)

DESK = "+31591200360"
WITHHELD = [
    "+266696687",
    "266696687",
    "+7378742833",
    "+2562533",
    "+8656696",
    "+86282452253",
    "anonymous",
    "Restricted",
    "",
]


def spoken(response):
    """Everything the TwiML says, in order."""
    assert response.status_code == 200, response.data
    says = ET.fromstring(response.data).iter("Say")
    return " ".join(say.text or "" for say in says)


@pytest.mark.parametrize(
    "typed",
    [
        "0591-200360",
        "(0591) 200360",
        "0031 591 200 360",
        "+31 (0)591 200360",
        "+31591200360",
        "591200360",
    ],
)
def test_every_way_of_typing_the_desk_number_gives_one_e164(typed):
    assert to_e164(typed, "NL") == DESK


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("06 12 34 56 78", "+31612345678"),
        ("0032 2 555 12 12", "+3225551212"),
        ("+32 2 555 12 12", "+3225551212"),
    ],
)
def test_mobile_and_foreign_numbers_keep_their_own_country(typed, e164):
    assert to_e164(typed, "NL") == e164


@pytest.mark.parametrize("typed", ["02 555 12 12", "112", "0591123", "not a number"])
def test_invalid_numbers_are_not_forced_into_a_dutch_number(typed):
    assert to_e164(typed, "NL") is None


@pytest.mark.parametrize("caller", WITHHELD)
def test_withheld_caller_ids_are_never_a_number(caller):
    caller_id = parse_caller_id(caller, "NL")

    assert caller_id.withheld is True
    assert caller_id.e164 is None


@pytest.mark.parametrize(
    "caller", ["sip:alice@pbx.example.nl", "client:agent-7", "SIP:12@pbx"]
)
def test_sip_and_client_callers_have_no_number(caller):
    caller_id = parse_caller_id(caller, "NL")

    assert caller_id.e164 is None
    assert caller_id.raw == caller


def test_visible_caller_id_is_read_as_e164():
    caller_id = parse_caller_id(" +31612345678 ", "NL")

    assert (caller_id.e164, caller_id.withheld) == ("+31612345678", False)


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+31612345678", "+31******678"),
        ("+31591200360", "+31******360"),
        ("+3225551212", "+32*****212"),
        ("+14158675309", "+1*******309"),
        ("+441591200360", "+44*******360"),
    ],
)
def test_mask_keeps_the_country_code_and_the_last_three_digits(number, masked):
    assert mask(number) == masked


@pytest.mark.parametrize(
    ("number", "country"),
    [
        ("+31612345678", "31"),
        ("+3225551212", "32"),
        ("+2562533", "256"),
        ("+31 6 12345678", "31"),
        ("591200360", ""),
        ("0612345678", ""),
        ("025551212", ""),
        ("0591123", ""),
        ("0591-200360", ""),
    ],
)
def test_mask_never_shows_more_than_the_last_three_digits(number, country):
    masked = mask(number)

    visible = re.sub(r"\D", "", masked.removeprefix(f"+{country}"))
    assert len(visible) <= 3, masked
    assert re.sub(r"\D", "", number).endswith(visible), masked


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("sip:alice@pbx.example.nl", "sip:***"),
        ("client:agent-7", "client:***"),
        ("anonymous", "***"),
        (None, "(none)"),
    ],
)
def test_mask_hides_names_and_addresses_whole(raw, masked):
    assert mask(raw) == masked


def test_contact_number_typed_with_00_prefix_matches_the_e164_caller(client, db, work):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5), requester_phone="0031 591 200 360"
    )
    post_portal(client, event)

    response = call_in(client, "+31591200360")

    assert "4 8 2 1 3" in spoken(response)
    work()
    with db.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        escalation = session.scalars(select(Escalation)).one()
        call = session.get(Call, escalation.call_id)
    assert (contact.phone_raw, contact.phone_e164) == ("0031 591 200 360", DESK)
    assert call.caller_e164 == DESK
    assert get_ticket(client, 48213).json["effective_priority"] == "urgent"


def test_caller_sharing_only_the_last_nine_digits_is_not_matched(client, db, work):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5), requester_phone="0591-200360"
    )
    post_portal(client, event)

    response = call_in(client, "+49591200360")

    assert "4 8 2 1 3" not in spoken(response)
    work()
    with db.sessions() as session:
        assert session.scalars(select(Escalation)).all() == []
    assert get_ticket(client, 48213).json["effective_priority"] == "high"


def test_invalid_contact_number_is_kept_raw_and_flagged(client, db):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5),
        requester_phone="02 555 12 12",
        requester_mobile=None,
    )
    post_portal(client, event)

    with db.sessions() as session:
        contact = session.scalars(select(Contact)).one()
    assert (contact.phone_raw, contact.phone_e164) == ("02 555 12 12", None)
    assert contact.has_unusable_number is True


@pytest.mark.parametrize("caller", ["anonymous", "+266696687", "266696687"])
def test_withheld_caller_is_stored_unmatchable_and_never_escalates(
    client, db, work, caller
):
    # The contact's number is the one "266696687" becomes when read as Dutch.
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5), requester_phone="+31266696687"
    )
    post_portal(client, event)
    params = dict(load_fixture("twilio/incoming-call-withheld.json")["params"])
    params.update(From=caller, Caller=caller)

    response = post_twilio(client, "/webhooks/twilio/voice", params)

    said = spoken(response)
    assert "afgeschermd" in said
    assert "4 8 2 1 3" not in said
    work()
    with db.sessions() as session:
        contact = session.scalars(select(Contact)).one()
        call = session.scalars(select(Call)).one()
        escalations = session.scalars(select(Escalation)).all()
    assert contact.phone_e164 == "+31266696687"
    assert (call.caller_raw, call.caller_e164, call.caller_withheld) == (
        caller,
        None,
        True,
    )
    assert escalations == []
    body = get_ticket(client, 48213).json
    assert (body["effective_priority"], body["escalation"]["state"]) == (
        "high",
        "awaiting_call",
    )

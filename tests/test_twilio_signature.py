"""Twilio's signature on the voice webhook, and the TwiML the caller hears."""

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator
from werkzeug.middleware.proxy_fix import ProxyFix

from escalation.models import Call, OutboxEntry
from escalation.voice import PROMPTS
from tests.helpers import (
    BASE_URL,
    load_fixture,
    post_portal,
    post_twilio,
    sign,
    ticket_event,
    voice_params,
)

VOICE = "/webhooks/twilio/voice"
CALLER = "+31612345678"
DUTCH = ("nl-NL", "Polly.Laura-Neural")
ENGLISH = ("en-GB", "Polly.Amy-Neural")
VOICEMAIL = ["Say", "Record", "Say", "Hangup"]

# twilio-python's own test vector (PITFALLS.md #1).
VECTOR_TOKEN = "12345"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}
VECTOR_SIGNATURE = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
VECTOR_SIGNATURE_443 = "kvajT1Ptam85bY51eRf/AJRuM3w="


def stored(db):
    """How many calls and outbox entries are stored."""
    with db.sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Call, OutboxEntry)
        }


def twiml(response):
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return ET.fromstring(response.data)


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        ("https://mycompany.com/myapp.php?foo=1&bar=2", VECTOR_SIGNATURE),
        ("https://mycompany.com:1234/myapp.php?foo=1&bar=2", VECTOR_SIGNATURE),
        ("https://mycompany.com/myapp.php?foo=1&bar=2", VECTOR_SIGNATURE_443),
    ],
    ids=["without-port", "with-port-1234", "signed-with-443"],
)
def test_library_vector_validates_with_and_without_the_port(url, signature):
    validator = RequestValidator(VECTOR_TOKEN)

    assert validator.validate(url, VECTOR_PARAMS, signature) is True


@pytest.mark.parametrize(
    ("token", "params"),
    [
        ("54321", VECTOR_PARAMS),
        (VECTOR_TOKEN, {**VECTOR_PARAMS, "Digits": "1235"}),
    ],
    ids=["other-token", "tampered-param"],
)
def test_library_vector_fails_for_another_token_or_params(token, params):
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"

    assert RequestValidator(token).validate(url, params, VECTOR_SIGNATURE) is False


@pytest.mark.parametrize(
    ("public_base_url", "signed_base"),
    [
        ("https://mycompany.com:1234", "https://mycompany.com"),
        ("https://mycompany.com:1234", "https://mycompany.com:1234"),
        ("https://mycompany.com", "https://mycompany.com:443"),
    ],
)
def test_public_base_url_with_or_without_port_validates(
    make_app, public_base_url, signed_base
):
    client = make_app(PUBLIC_BASE_URL=public_base_url).test_client()

    response = post_twilio(
        client, VOICE, voice_params(CALLER), signed_url=signed_base + VOICE
    )

    assert response.status_code == 200, response.data


def unsigned(client, params):
    return client.post(VOICE, data=params)


def signed_with_another_token(client, params):
    return post_twilio(client, VOICE, params, token="not-the-auth-token")


def signed_then_tampered(client, params):
    signature = sign(BASE_URL + VOICE, params)
    tampered = {**params, "From": "+31687654321"}
    return client.post(VOICE, data=tampered, headers={"X-Twilio-Signature": signature})


def signed_for_another_route(client, params):
    url = BASE_URL + "/webhooks/twilio/status"
    return post_twilio(client, VOICE, params, signed_url=url)


@pytest.mark.parametrize(
    "send",
    [
        unsigned,
        signed_with_another_token,
        signed_then_tampered,
        signed_for_another_route,
    ],
)
def test_unsigned_or_forged_call_is_refused_and_stores_nothing(client, db, send):
    response = send(client, voice_params(CALLER))

    assert response.status_code == 403
    assert stored(db) == {"calls": 0, "outbox": 0}


PUBLIC_VOICE_URL = "https://support.example.nl" + VOICE
FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "support.example.nl"}


@pytest.mark.parametrize(
    ("settings", "status", "calls"),
    [
        ({"TRUSTED_PROXIES": "1"}, 200, 1),
        ({"PUBLIC_BASE_URL": "https://support.example.nl"}, 200, 1),
        ({}, 403, 0),
    ],
    ids=["trusted-proxy", "public-base-url", "neither"],
)
def test_call_behind_a_proxy_validates_only_when_configured(
    make_app, settings, status, calls
):
    app = make_app(**settings)

    response = post_twilio(
        app.test_client(),
        VOICE,
        voice_params(CALLER),
        signed_url=PUBLIC_VOICE_URL,
        headers=FORWARDED,
        base_url="http://127.0.0.1:8000",
    )

    assert response.status_code == status, response.data
    assert stored(app.extensions["escalation.db"])["calls"] == calls


def test_proxy_fix_that_ignores_the_forwarded_host_is_caught(make_app):
    # ProxyFix's defaults trust X-Forwarded-Proto but not X-Forwarded-Host.
    app = make_app()
    app.wsgi_app = ProxyFix(app.wsgi_app)

    response = post_twilio(
        app.test_client(),
        VOICE,
        voice_params(CALLER),
        signed_url=PUBLIC_VOICE_URL,
        headers=FORWARDED,
        base_url="http://127.0.0.1:8000",
    )

    assert response.status_code == 403


@pytest.mark.parametrize("query", ["ticket=42", "ticket=42&step=menu", "note=a%27b"])
def test_signature_over_a_callback_url_with_a_query_validates(client, db, query):
    response = post_twilio(client, f"{VOICE}?{query}", voice_params(CALLER))

    assert response.status_code == 200, response.data
    assert stored(db)["calls"] == 1


def test_callback_query_behind_public_base_url_validates(make_app):
    client = make_app(PUBLIC_BASE_URL="https://support.example.nl").test_client()
    path = f"{VOICE}?ticket=42&step=menu"

    response = post_twilio(
        client,
        path,
        voice_params(CALLER),
        signed_url=f"https://support.example.nl{path}",
    )

    assert response.status_code == 200, response.data


def test_gather_action_from_the_twiml_validates_when_twilio_signs_it(make_app):
    client = make_app(PUBLIC_BASE_URL="https://support.example.nl").test_client()
    params = voice_params(CALLER)
    greeting = twiml(post_twilio(client, VOICE, params, signed_url=PUBLIC_VOICE_URL))
    action = greeting.find("Gather").get("action")
    url = urljoin(PUBLIC_VOICE_URL, action)

    response = post_twilio(client, action, {**params, "Digits": ""}, signed_url=url)

    assert "?" in action
    assert twiml(response).tag == "Response"


def test_signature_without_the_query_does_not_cover_one(client, db):
    params = voice_params(CALLER)
    signature = sign(BASE_URL + VOICE, params)

    response = client.post(
        f"{VOICE}?ticket=42", data=params, headers={"X-Twilio-Signature": signature}
    )

    assert response.status_code == 403
    assert stored(db) == {"calls": 0, "outbox": 0}


def test_repeated_delivery_of_one_call_stores_it_once(client, db):
    params = voice_params(CALLER, "CA00000000000000000000000000000042")

    first = post_twilio(client, VOICE, params)
    second = post_twilio(
        client, VOICE, params, headers={"I-Twilio-Idempotency-Token": "retry-1"}
    )

    assert twiml(first).tag == "Response"
    assert first.data == second.data
    assert stored(db) == {"calls": 1, "outbox": 1}
    with db.sessions() as session:
        call = session.scalars(select(Call)).one()
        entry = session.scalars(select(OutboxEntry)).one()
    assert call.call_sid == "CA00000000000000000000000000000042"
    assert (entry.task, entry.args) == ("evaluate_call", [call.id])


def dutch(name, **values):
    return (*DUTCH, PROMPTS["nl"][name].format(**values))


def said(root):
    """(language, voice, text) of every <Say>, nested ones included."""
    return [
        (say.get("language"), say.get("voice"), say.text) for say in root.iter("Say")
    ]


def tied_to_urgent_ticket(client):
    post_portal(client, ticket_event(datetime.now(UTC) - timedelta(minutes=5)))
    return voice_params(CALLER)


def tied_to_ordinary_ticket(client):
    event = ticket_event(
        datetime.now(UTC) - timedelta(minutes=5), impact="Medium", urgency="Medium"
    )
    post_portal(client, event)
    return voice_params(CALLER)


def known_caller_without_open_ticket(client):
    event = ticket_event(datetime.now(UTC) - timedelta(minutes=5), status="Resolved")
    post_portal(client, event)
    return voice_params(CALLER)


def unknown_caller(client):
    return voice_params(CALLER)


def withheld_caller(client):
    return dict(load_fixture("twilio/incoming-call-withheld.json")["params"])


def asked_for_ticket():
    return [dutch("ask_ticket"), (*ENGLISH, PROMPTS["nl"]["language_hint"])]


def sent_to_voicemail():
    return [dutch("voicemail"), dutch("no_message")]


@pytest.mark.parametrize(
    ("arrange", "verbs", "says", "mentions"),
    [
        (
            tied_to_urgent_ticket,
            ["Say", "Say", *VOICEMAIL],
            lambda: [
                dutch("welcome"),
                dutch("registered", ticket="4 8 2 1 3"),
                *sent_to_voicemail(),
            ],
            "ticket 4 8 2 1 3",
        ),
        (
            tied_to_ordinary_ticket,
            ["Say", "Say", *VOICEMAIL],
            lambda: [
                dutch("welcome"),
                dutch("registered", ticket="4 8 2 1 3"),
                *sent_to_voicemail(),
            ],
            "ticket 4 8 2 1 3",
        ),
        (
            known_caller_without_open_ticket,
            ["Say", "Say", *VOICEMAIL],
            lambda: [
                dutch("welcome"),
                dutch("no_ticket", minutes=45),
                *sent_to_voicemail(),
            ],
            "binnen 45 minuten",
        ),
        (
            unknown_caller,
            ["Say", "Gather", "Redirect"],
            lambda: [dutch("welcome"), *asked_for_ticket()],
            "Toets het ticketnummer",
        ),
        (
            withheld_caller,
            ["Say", "Say", "Gather", "Redirect"],
            lambda: [dutch("welcome"), dutch("withheld"), *asked_for_ticket()],
            "telefoonnummer is afgeschermd",
        ),
    ],
    ids=["urgent-ticket", "ordinary-ticket", "no-open-ticket", "unknown", "withheld"],
)
def test_caller_hears_the_dutch_prompts_for_what_was_recognised(
    make_app, arrange, verbs, says, mentions
):
    app = make_app(BUSINESS_HOURS="always", ESCALATION_WINDOW_MINUTES="45")
    client = app.test_client()
    params = arrange(client)

    root = twiml(post_twilio(client, VOICE, params))

    assert root.tag == "Response"
    assert [verb.tag for verb in root] == verbs
    assert said(root) == says()
    assert mentions in " ".join(text for _, _, text in said(root))


def test_caller_with_a_ticket_is_put_through_to_the_engineer_on_duty(make_app):
    app = make_app(BUSINESS_HOURS="always", FORWARD_NUMBER="020 794 6095")
    client = app.test_client()
    params = tied_to_urgent_ticket(client)

    root = twiml(post_twilio(client, VOICE, params))

    assert [verb.tag for verb in root] == ["Say", "Say", "Say", "Dial"]
    assert said(root) == [
        dutch("welcome"),
        dutch("registered", ticket="4 8 2 1 3"),
        dutch("connecting"),
    ]
    assert root.find("Dial").text == "+31207946095"

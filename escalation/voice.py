"""What the caller hears, and the TwiML that says it.

Every prompt is a whole sentence (or a few) kept here once per language;
the call flow picks prompts by name and fills in numbers, never glues
fragments together. Action URLs carry only ``[A-Za-z0-9_-]`` values in
their query strings, so the signature Twilio computes survives the trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.twiml.voice_response import Gather, VoiceResponse

from escalation.config import Settings

LANGUAGES = ("nl", "en")
SPEECH_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}
# The key that switches the menu to English (and back), then #.
LANGUAGE_KEY = "*"
# Characters a query value may hold and still be signed byte for byte.
SAFE_QUERY_VALUE = re.compile(r"[A-Za-z0-9_-]+")
GATHER_TIMEOUT_SECONDS = 8
NO_INPUT_REPEATS = 1

PROMPTS: dict[str, dict[str, str]] = {
    "nl": {
        "welcome": "Welkom bij de urgente supportlijn.",
        "out_of_hours": (
            "U belt buiten kantoortijden. Een urgente melding registreren wij ook nu."
        ),
        "registered": "Uw oproep is geregistreerd bij ticket {ticket}.",
        "registered_review": (
            "Uw oproep is geregistreerd bij ticket {ticket}. Omdat wij uw nummer "
            "niet herkennen, controleert een supportmedewerker deze koppeling."
        ),
        "several_tickets": "Wij zien {count} open tickets bij uw telefoonnummer.",
        "withheld": "Uw telefoonnummer is afgeschermd.",
        "ask_ticket": "Toets het ticketnummer, gevolgd door een hekje.",
        "language_hint": "For English, press star, then hash.",
        "no_input": "Wij hebben geen toetsen ontvangen.",
        "not_open": "Ticket {ticket} is geen open ticket.",
        "no_ticket": (
            "Wij konden uw oproep niet aan een open ticket koppelen. Een urgente "
            "melding heeft ook een ticket in het supportportaal nodig. Wij bewaren "
            "uw oproep: maakt u binnen {minutes} minuten een ticket aan, dan telt "
            "deze oproep mee."
        ),
        "connecting": "Wij verbinden u door met de dienstdoende engineer.",
        "voicemail": (
            "Spreek na de toon uw bericht in, en sluit af met een hekje. "
            "Noem uw naam en uw ticketnummer."
        ),
        "voicemail_saved": "Dank u wel, uw bericht is opgeslagen. Tot ziens.",
        "no_message": "Wij hebben geen bericht ontvangen. Tot ziens.",
        "goodbye": "Dank u wel voor uw melding. Tot ziens.",
        "apology": (
            "Excuses, er is een storing in de supportlijn. "
            "Belt u alstublieft over enkele minuten opnieuw."
        ),
    },
    "en": {
        "welcome": "Welcome to the urgent support line.",
        "out_of_hours": (
            "You are calling outside business hours. We still register urgent "
            "reports now."
        ),
        "registered": "Your call has been registered against ticket {ticket}.",
        "registered_review": (
            "Your call has been registered against ticket {ticket}. Because we do "
            "not recognise your number, a support engineer will check this link."
        ),
        "several_tickets": "We see {count} open tickets for your phone number.",
        "withheld": "Your phone number is withheld.",
        "ask_ticket": "Please enter the ticket number, followed by the hash key.",
        "language_hint": "Voor Nederlands, toets sterretje en dan hekje.",
        "no_input": "We did not receive any keys.",
        "not_open": "Ticket {ticket} is not an open ticket.",
        "no_ticket": (
            "We could not link your call to an open ticket. An urgent report also "
            "needs a ticket in the support portal. We keep your call: if you file "
            "a ticket within {minutes} minutes, this call counts."
        ),
        "connecting": "We are connecting you to the engineer on duty.",
        "voicemail": (
            "Please leave your message after the tone, and finish with the hash "
            "key. Say your name and your ticket number."
        ),
        "voicemail_saved": "Thank you, your message has been saved. Goodbye.",
        "no_message": "We did not receive a message. Goodbye.",
        "goodbye": "Thank you for your report. Goodbye.",
        "apology": (
            "We are sorry, the support line has a fault. "
            "Please call again in a few minutes."
        ),
    },
}


def language_or(value: str | None, default: str) -> str:
    """A contact's language as the portal gives it ("nl", "en-GB"), or default."""
    text = (value or "").strip().lower()[:2]
    return text if text in LANGUAGES else default


def other_language(language: str) -> str:
    return "en" if language == "nl" else "nl"


def spoken_digits(number: int | str) -> str:
    """Ticket numbers are read digit by digit: 4 8 2 1 3."""
    return " ".join(str(number))


def prompt(language: str, name: str, **values: object) -> str:
    return PROMPTS[language][name].format(**values)


def action_url(path: str, **query: object) -> str:
    """A relative action URL; Twilio resolves it against the current one."""
    values = {key: str(value) for key, value in query.items()}
    for value in values.values():
        if not SAFE_QUERY_VALUE.fullmatch(value):
            raise ValueError(f"{value!r} would not survive signing in a query")
    return f"{path}?{urlencode(values)}" if values else path


@dataclass
class Reply:
    """A TwiML document under construction, in one language."""

    settings: Settings
    language: str

    def __post_init__(self) -> None:
        self.response = VoiceResponse()

    def say(self, name: str, **values: object) -> Reply:
        self._say_into(
            self.response, self.language, prompt(self.language, name, **values)
        )
        return self

    def ask_ticket(self, attempt: int) -> Reply:
        """Ask for a ticket number; the verbs after the Gather catch silence."""
        url = action_url("/webhooks/twilio/gather", attempt=attempt, lang=self.language)
        gather = self.response.gather(
            input="dtmf",
            action=url,
            method="POST",
            finish_on_key="#",
            timeout=GATHER_TIMEOUT_SECONDS,
        )
        self._say_into(gather, self.language, prompt(self.language, "ask_ticket"))
        other = other_language(self.language)
        self._say_into(gather, other, prompt(self.language, "language_hint"))
        self.response.redirect(url, method="POST")
        return self

    def dial(self, number: str) -> Reply:
        self.say("connecting")
        self.response.dial(
            number,
            action=action_url("/webhooks/twilio/dial", lang=self.language),
            method="POST",
            timeout=self.settings.dial_timeout_seconds,
            caller_id=self.settings.support_number,
        )
        return self

    def voicemail(self) -> Reply:
        self.say("voicemail")
        self.response.record(
            action=action_url("/webhooks/twilio/recording", lang=self.language),
            method="POST",
            max_length=self.settings.voicemail_max_seconds,
            finish_on_key="#",
            play_beep=True,
            recording_status_callback="/webhooks/twilio/recording-status",
            recording_status_callback_method="POST",
        )
        return self.say("no_message").hang_up()

    def hang_up(self) -> Reply:
        self.response.hangup()
        return self

    def xml(self) -> str:
        return str(self.response.to_xml())

    def _say_into(self, verb: VoiceResponse | Gather, language: str, text: str) -> None:
        voice = self.settings.voice if language == "nl" else self.settings.voice_en
        verb.say(text, voice=voice, language=SPEECH_LANGUAGE[language])

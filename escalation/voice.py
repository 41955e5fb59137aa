"""What the caller hears. Each prompt is whole and lives here, once."""

from __future__ import annotations

from twilio.twiml.voice_response import VoiceResponse

from escalation.calls import IncomingCall
from escalation.config import Settings

PROMPTS = {
    "registered": (
        "Goedendag, u belt met de urgente supportlijn. "
        "Uw oproep is geregistreerd bij ticket {ticket}."
    ),
    "registered_urgent": (
        "Goedendag, u belt met de urgente supportlijn. "
        "Uw oproep is geregistreerd bij uw urgente ticket {ticket}. "
        "Wij controleren de melding en nemen zo snel mogelijk contact op."
    ),
    "several_tickets": (
        "Goedendag, u belt met de urgente supportlijn. "
        "Uw oproep is geregistreerd. Wij zien {count} open tickets bij uw "
        "nummer; een supportmedewerker koppelt uw oproep aan het juiste ticket."
    ),
    "no_ticket": (
        "Goedendag, u belt met de urgente supportlijn. "
        "Uw oproep is geregistreerd, maar wij vinden bij uw nummer geen open "
        "ticket. Een urgente melding heeft ook een ticket in het supportportaal "
        "nodig. Maakt u het ticket binnen {minutes} minuten aan, dan telt deze "
        "oproep mee."
    ),
    "withheld": (
        "Goedendag, u belt met de urgente supportlijn. "
        "Uw nummer is afgeschermd, daarom kunnen wij uw oproep niet aan een "
        "ticket koppelen. Belt u alstublieft opnieuw met een zichtbaar nummer."
    ),
    "apology": (
        "Excuses, er is een storing in de supportlijn. Uw oproep is niet "
        "verloren gegaan. Belt u alstublieft over enkele minuten opnieuw."
    ),
}


def spoken_digits(number: int) -> str:
    """Ticket numbers are read digit by digit: 4 8 2 1 3."""
    return " ".join(str(number))


def greeting_text(incoming: IncomingCall, settings: Settings) -> str:
    call = incoming.call
    if call.caller_withheld:
        return PROMPTS["withheld"]
    urgent = incoming.urgent_requests
    if len(urgent) == 1:
        ticket = spoken_digits(urgent[0].portal_id)
        return PROMPTS["registered_urgent"].format(ticket=ticket)
    if len(incoming.tickets) == 1:
        ticket = spoken_digits(incoming.tickets[0].portal_id)
        return PROMPTS["registered"].format(ticket=ticket)
    if incoming.tickets:
        return PROMPTS["several_tickets"].format(count=len(incoming.tickets))
    return PROMPTS["no_ticket"].format(minutes=settings.window_minutes)


def say_and_hang_up(text: str, settings: Settings) -> str:
    response = VoiceResponse()
    response.say(text, voice=settings.voice, language=settings.voice_language)
    response.hangup()
    return str(response.to_xml())

"""The call flow: which prompts a caller hears, and where the call goes next.

Each function takes what the webhook stored and returns a finished TwiML
document. None of them touches the database.
"""

from __future__ import annotations

from escalation.calls import IncomingCall
from escalation.config import Settings
from escalation.models import Call, Ticket
from escalation.voice import NO_INPUT_REPEATS, Reply, spoken_digits


def greet(incoming: IncomingCall, settings: Settings) -> str:
    call = incoming.call
    reply = Reply(settings, call.language).say("welcome")
    if call.out_of_hours:
        reply.say("out_of_hours")

    urgent = incoming.urgent_requests
    if len(urgent) == 1:
        return registered(reply, call, urgent[0], settings)
    if len(incoming.tickets) == 1:
        return registered(reply, call, incoming.tickets[0], settings)
    if len(incoming.tickets) > 1:
        return (
            reply.say("several_tickets", count=len(incoming.tickets))
            .ask_ticket(1)
            .xml()
        )
    if call.caller_withheld:
        return reply.say("withheld").ask_ticket(1).xml()
    if not incoming.known_caller:
        return reply.ask_ticket(1).xml()
    return without_ticket(reply, call, settings)


def ticket_typed(
    call: Call,
    ticket: Ticket | None,
    typed: str,
    attempt: int,
    settings: Settings,
    recognised: bool = True,
) -> str:
    """The answer to a typed ticket number; ``recognised``: the caller ID ties."""
    reply = Reply(settings, call.language)
    if ticket is not None:
        return registered(reply, call, ticket, settings, recognised)

    reply.say("not_open", ticket=spoken_digits(typed))
    if call.ticket_tries < settings.max_ticket_tries:
        return reply.ask_ticket(attempt).xml()
    return without_ticket(reply, call, settings)


def no_input(call: Call, attempt: int, settings: Settings) -> str:
    """Silence (or only #): ask once more, then carry on without a ticket."""
    reply = Reply(settings, call.language).say("no_input")
    if attempt <= NO_INPUT_REPEATS:
        return reply.ask_ticket(attempt + 1).xml()
    return without_ticket(reply, call, settings)


def language_switched(call: Call, attempt: int, settings: Settings) -> str:
    return Reply(settings, call.language).ask_ticket(attempt).xml()


def registered(
    reply: Reply,
    call: Call,
    ticket: Ticket,
    settings: Settings,
    recognised: bool = True,
) -> str:
    name = "registered" if recognised else "registered_review"
    reply.say(name, ticket=spoken_digits(ticket.portal_id))
    return forward(reply, call, settings)


def without_ticket(reply: Reply, call: Call, settings: Settings) -> str:
    reply.say("no_ticket", minutes=settings.window_minutes)
    return forward(reply, call, settings)


def forward(reply: Reply, call: Call, settings: Settings) -> str:
    """Put the caller through to whoever is on duty, or to voicemail."""
    number = (
        settings.out_of_hours_number if call.out_of_hours else settings.forward_number
    )
    if number:
        return reply.dial(number).xml()
    return reply.voicemail().xml()


def dial_ended(call: Call, answered: bool, settings: Settings) -> str:
    reply = Reply(settings, call.language)
    if answered:
        return reply.say("goodbye").hang_up().xml()
    return reply.voicemail().xml()


def voicemail_saved(call: Call, settings: Settings) -> str:
    return Reply(settings, call.language).say("voicemail_saved").hang_up().xml()


def apology(settings: Settings, language: str | None = None) -> str:
    reply = Reply(settings, language or settings.default_language).say("apology")
    if settings.forward_number:
        return reply.dial(settings.forward_number).xml()
    return reply.hang_up().xml()

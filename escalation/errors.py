"""Domain errors, each carrying a message a person can act on."""


class EscalationError(Exception):
    """Base class for errors raised by the escalation service."""


class ConfigError(EscalationError):
    """A configuration value is missing or malformed."""


class InvalidEvent(EscalationError):
    """A webhook payload cannot be used; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status

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


class PortalError(EscalationError):
    """A request to the portal did not do what was asked.

    It keeps what was sent and what came back (never the credentials), so
    a failed write can be shown to a person as it happened.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        path: str = "",
        sent: object = None,
        status: int | None = None,
        answer: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.path = path
        self.sent = sent
        self.status = status
        self.answer = answer


class PortalRetryable(PortalError):
    """Worth trying again later: 429, 5xx, a timeout, a lost connection.

    ``retry_after`` is the wait in seconds the portal asked for, if it did.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        method: str = "",
        path: str = "",
        sent: object = None,
        status: int | None = None,
        answer: str | None = None,
    ) -> None:
        super().__init__(
            message, method=method, path=path, sent=sent, status=status, answer=answer
        )
        self.retry_after = retry_after


class PortalRefused(PortalError):
    """The portal refused the request (a 4xx other than 429): retrying will
    not help until someone changes the request or the portal."""


class InvalidDirectory(EscalationError):
    """A phone directory file cannot be read as a whole (its header, say)."""

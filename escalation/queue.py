"""The Redis connection and the RQ queue the jobs run from."""

from __future__ import annotations

from flask import Flask, current_app
from redis import Redis
from rq import Queue

from escalation.config import Settings
from escalation.errors import ConfigError

# A webhook must answer Twilio within 15 s; a dead Redis may cost it little.
CONNECT_TIMEOUT_SECONDS = 2
SOCKET_TIMEOUT_SECONDS = 10


def redis_connection(url: str | None) -> Redis:
    if not url:
        raise ConfigError(
            "REDIS_URL is not set: 'make run' starts an embedded Redis and "
            "sets it; elsewhere set REDIS_URL, e.g. redis://127.0.0.1:6379/0"
        )
    return Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
    )


def make_queue(settings: Settings, connection: Redis | None = None) -> Queue:
    connection = connection or redis_connection(settings.redis_url)
    return Queue(settings.queue_name, connection=connection)


def get_queue() -> Queue:
    return queue_for(current_app)


def queue_for(app: Flask) -> Queue:
    """The app's queue, on one Redis connection pool per app."""
    cached = app.extensions.get("escalation.queue")
    if cached is None:
        cached = make_queue(app.config["SETTINGS"])
        app.extensions["escalation.queue"] = cached
    return cached

"""The worker process: RQ's worker with its scheduler, plus the outbox relay."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from rq import Worker

from escalation import outbox
from escalation.config import Settings
from escalation.db import Database
from escalation.queue import make_queue

logger = logging.getLogger(__name__)


class OutboxRelay(threading.Thread):
    """Sends waiting outbox entries to the queue every few seconds.

    It talks to Redis on its own, so entries stored while Redis was away
    are queued as soon as Redis answers again.
    """

    def __init__(self, app: Flask) -> None:
        super().__init__(name="outbox-relay", daemon=True)
        self.settings: Settings = app.config["SETTINGS"]
        self.database: Database = app.extensions["escalation.db"]
        self.stopped = threading.Event()

    def run(self) -> None:
        queue = make_queue(self.settings)
        while not self.stopped.is_set():
            try:
                outbox.relay(self.database, queue)
            except Exception as exc:  # keep relaying whatever one round hit
                logger.warning("outbox relay round failed error=%s", exc)
            self.stopped.wait(self.settings.outbox_relay_seconds)

    def stop(self) -> None:
        self.stopped.set()


def run_worker(app: Flask, burst: bool = False) -> None:
    import jobs

    jobs.bind_app(app)
    settings: Settings = app.config["SETTINGS"]
    queue = make_queue(settings)
    outbox.relay(app.extensions["escalation.db"], queue)
    relay = OutboxRelay(app)
    relay.start()
    try:
        worker = Worker([queue], connection=queue.connection)
        worker.work(with_scheduler=True, burst=burst)
    finally:
        relay.stop()

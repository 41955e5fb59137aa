"""The worker process: RQ's worker with its scheduler, the outbox relay and,
with a portal configured, the timer that queues the periodic portal pull."""

from __future__ import annotations

import logging
import threading

from flask import Flask
from rq import Worker

from escalation import outbox
from escalation.config import Settings
from escalation.db import Database, utcnow
from escalation.portal import reconcile
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


class PortalPullTimer(threading.Thread):
    """Queues the portal pull at start and every RECONCILE_MINUTES.

    Each period has one job id, so several worker processes queue it once.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(name="portal-pull-timer", daemon=True)
        self.settings = settings
        self.stopped = threading.Event()

    def run(self) -> None:
        queue = make_queue(self.settings)
        minutes = self.settings.portal.reconcile_minutes
        while not self.stopped.is_set():
            try:
                reconcile.schedule(queue, minutes, utcnow())
            except Exception as exc:  # try again next period
                logger.warning("portal pull not queued error=%s", exc)
            self.stopped.wait(minutes * 60)

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
    timer = PortalPullTimer(settings)
    if settings.portal.enabled and not burst:
        timer.start()
    elif not settings.portal.enabled:
        logger.info("portal pull off: FRESHDESK_DOMAIN is not set")
    try:
        worker = Worker([queue], connection=queue.connection)
        worker.work(with_scheduler=True, burst=burst)
    finally:
        relay.stop()
        timer.stop()

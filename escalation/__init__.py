"""The urgent escalation line: a ticket is Urgent only with a call to match."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from escalation import outbox
from escalation.config import Settings, environment_with_local_secrets
from escalation.db import Database, close_session
from escalation.queue import queue_for

# Webhook bodies are a few kilobytes; anything near this is not one.
MAX_BODY_BYTES = 1024 * 1024
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s.%(funcName)s: %(message)s"


def create_app(config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from ``config``, or from the environment when None."""
    app = Flask(
        __name__,
        instance_path=_instance_path(),
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)

    if config is None:
        values = environment_with_local_secrets(app.instance_path)
    else:
        values = dict(config)
    settings = Settings.load(values, app.instance_path)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    configure_logging(settings.log_level)

    database = Database(settings.database_url)
    app.extensions["escalation.db"] = database
    outbox.dispatch_on_commit(database, lambda: queue_for(app))
    app.teardown_appcontext(close_session)
    if settings.trusted_proxies:
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )

    register_blueprints(app)
    app.register_error_handler(HTTPException, http_error)

    from escalation.cli import register_commands

    register_commands(app)
    return app


def _instance_path() -> str | None:
    given = os.environ.get("INSTANCE_PATH")
    return os.path.abspath(given) if given else None


def register_blueprints(app: Flask) -> None:
    from escalation.api import bp as api_bp
    from escalation.dashboard import bp as dashboard_bp
    from escalation.escalations_api import bp as escalations_api_bp
    from escalation.health import bp as health_bp
    from escalation.metrics import bp as metrics_bp
    from webhooks import portal_bp, twilio_bp

    app.register_blueprint(api_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(escalations_api_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(twilio_bp)


def configure_logging(level: str) -> None:
    """Give the service's loggers a handler unless the host already did."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=LOG_FORMAT)
    for name in ("escalation", "webhooks", "jobs"):
        logging.getLogger(name).setLevel(level)


def http_error(error: HTTPException) -> tuple[Response, int]:
    return jsonify(error=error.description), error.code or 500

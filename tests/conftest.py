"""Fixtures: the app on SQLite (and PostgreSQL when TEST_DATABASE_URL is
set), a real Redis, a test client, and helpers that speak as Twilio and the
portal do."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker
from sqlalchemy import create_engine, text

import jobs
from escalation import create_app, outbox
from escalation.db import Base, Database
from escalation.embedded_redis import EmbeddedRedis
from escalation.migrate import upgrade
from escalation.queue import make_queue
from tests.helpers import (
    API_TOKEN,
    PORTAL_SECRET,
    SECRET_KEY,
    TWILIO_TOKEN,
)

BACKENDS = ["sqlite"]
if os.environ.get("TEST_DATABASE_URL"):
    BACKENDS.append("postgresql")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """TEST_REDIS_URL when given, else an embedded Redis for this run."""
    given = os.environ.get("TEST_REDIS_URL")
    if given:
        yield given
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every database test runs per backend; locking tests on PostgreSQL only."""
    if "database_url" not in metafunc.fixturenames:
        return
    backends = BACKENDS
    if metafunc.definition.get_closest_marker("postgres_only"):
        backends = [b for b in BACKENDS if b == "postgresql"]
    metafunc.parametrize("database_url", backends, indirect=True, scope="session")


@pytest.fixture(scope="session")
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database migrated to head by Alembic, once per backend per run."""
    if request.param == "postgresql":
        url = os.environ["TEST_DATABASE_URL"]
        reset_postgres_schema(url)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    upgrade(url)
    return url


def reset_postgres_schema(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def settings_for(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "RQ_QUEUE": "escalation-test",
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "PORTAL_WEBHOOK_SECRET": PORTAL_SECRET,
        "API_TOKEN": API_TOKEN,
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "DEBUG",
        # Tests that are about business hours set their own.
        "BUSINESS_HOURS": "always",
        **extra,
    }


@pytest.fixture
def make_app(database_url: str, redis_url: str) -> Iterator[Any]:
    """Build apps on the test database; every test starts with it empty."""
    clean_database(database_url)
    Redis.from_url(redis_url).flushdb()
    built: list[Flask] = []

    def build(**extra: str) -> Flask:
        app = create_app(settings_for(database_url, redis_url, **extra))
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["escalation.db"].engine.dispose()
    jobs.bind_app(None)  # type: ignore[arg-type]


@pytest.fixture
def app(make_app: Any) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["escalation.db"]


@pytest.fixture
def backend(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def clean_database(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


def run_jobs(app: Flask) -> int:
    """Relay the outbox and run the queued jobs in a burst worker, again
    while jobs leave new entries behind (an escalation's notifications)."""
    settings = app.config["SETTINGS"]
    queue = make_queue(settings)
    jobs.bind_app(app)
    for _ in range(5):
        if not outbox.relay(app.extensions["escalation.db"], queue) and not len(queue):
            break
        worker = SimpleWorker([queue], connection=queue.connection)
        worker.work(burst=True)
    return len(queue.failed_job_registry)


@pytest.fixture
def work(app: Flask) -> Any:
    def run() -> None:
        failed = run_jobs(app)
        assert failed == 0, "a job failed; see the worker log above"

    return run


@pytest.fixture
def fixtures_dir() -> Path:
    return Path(__file__).parent / "fixtures"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a real HTTP socket on loopback, for clients that speak HTTP."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)

"""Engine, sessions and the column types every model shares."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import current_app, g
from sqlalchemy import DateTime, Engine, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

_engines: weakref.WeakSet[Engine] = weakref.WeakSet()
T = TypeVar("T")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always UTC, also on SQLite (which keeps no offset).

    Naive datetimes are refused: a time without a zone is a bug waiting for
    the next daylight-saving change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}; store aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Database:
    """One engine and its session factory, bound to an app in the factory."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits on success and rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_immediate)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    _engines.add(engine)
    return engine


def _tune_sqlite(connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide where transactions begin.
    connection.isolation_level = None
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # SQLite has no row locks: take the write lock when a transaction starts,
    # so web and worker processes queue up instead of failing with
    # "database is locked" halfway through a read-then-write.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _forget_inherited_connections() -> None:
    # A forked RQ work-horse must not reuse the parent's pooled connections:
    # two processes on one socket corrupt the stream.
    for engine in list(_engines):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


def get_db() -> Database:
    return current_app.extensions["escalation.db"]


def get_session() -> Session:
    """The request's session, closed when the app context ends."""
    if "db_session" not in g:
        g.db_session = get_db().sessions()
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def utcnow() -> datetime:
    return datetime.now(UTC)


def locked(session: Session, model: type[T], *criteria: Any) -> T | None:
    """The row matching ``criteria``, read afresh and locked until commit.

    PostgreSQL holds the row lock; SQLite has none, but there every
    transaction already holds the database's write lock (see
    ``_begin_immediate``).
    """
    return session.scalar(
        select(model)
        .where(*criteria)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def insert_or_ignore(
    session: Session, model: type[Base], values: dict[str, Any], key: str
) -> int | None:
    """Insert a row unless ``key`` already holds it; the new id, or None.

    One statement on both PostgreSQL and SQLite (``ON CONFLICT DO
    NOTHING``), so two deliveries of one fact racing each other store it once.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[key])
        .returning(model.id)  # type: ignore[attr-defined]
    )
    return session.scalar(statement)

"""Engine and per-request session: services flush, this edge commits once per request."""

from __future__ import annotations

from contextvars import ContextVar

from flask import Flask, g, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# SQLite takes its write lock lazily; a reader that later writes can fail with "database is
# locked" without waiting. Writes therefore begin with BEGIN IMMEDIATE, which queues.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            # Take over transaction control from pysqlite so BEGIN IMMEDIATE is possible.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write_intent.get() else "BEGIN")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def init_db(app: Flask, engine: Engine) -> None:
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["wangge_engine"] = engine
    app.extensions["wangge_sessionmaker"] = factory

    @app.before_request
    def _mark_intent():
        g._write_token = write_intent.set(request.method not in ("GET", "HEAD", "OPTIONS"))

    @app.after_request
    def _commit(response):
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        return response

    @app.teardown_request
    def _close(_exc):
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()
        token = g.pop("_write_token", None)
        if token is not None:
            write_intent.reset(token)


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["wangge_sessionmaker"]()
    return g.db_session

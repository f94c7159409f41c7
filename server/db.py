"""Engine and per-request session: services flush, this edge commits once per request."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

# SQLite takes its write lock lazily; a reader that later writes can fail with "database is
# locked" without waiting. Writes therefore begin with BEGIN IMMEDIATE, which queues.
write_intent: ContextVar[bool] = ContextVar("write_intent", default=True)


class WriterQueue:
    """Serialises SQLite writers across threads and worker processes, in a blocking queue.

    SQLite's own busy handler makes waiting writers sleep and retry, which starves some of
    them for seconds under load. A blocking flock on a file beside the database hands the
    write lock over as soon as it is released instead.
    """

    def __init__(self, path: Path) -> None:
        self._thread_lock = threading.Lock()
        self._fd = open(path, "a+b")  # noqa: SIM115 - held for the life of the process

    def acquire(self) -> None:
        # A bounded wait turns a programming error (two write sessions in one thread) into an
        # error message instead of a hung worker.
        if not self._thread_lock.acquire(timeout=60):
            raise TimeoutError("timed out waiting for the SQLite writer queue")
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def release(self) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        db_path = engine.url.database
        queue = (
            WriterQueue(Path(f"{db_path}.writer-lock"))
            if db_path not in (None, "", ":memory:")
            else None
        )

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
            if write_intent.get():
                if queue is not None:
                    queue.acquire()
                    conn.info["writer_queue"] = True
                try:
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                except BaseException:
                    _release(conn)
                    raise
            else:
                conn.exec_driver_sql("BEGIN")

        def _release(conn):
            if conn.info.pop("writer_queue", False):
                queue.release()

        event.listen(engine, "commit", _release)
        event.listen(engine, "rollback", _release)

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


@contextmanager
def app_session(app: Flask, *, write: bool) -> Iterator[Session]:
    """A session of its own outside any request's: a write one commits when the block
    succeeds; a read one never takes SQLite's write lock."""
    token = write_intent.set(write)
    session = app.extensions["wangge_sessionmaker"]()
    try:
        yield session
        if write:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        write_intent.reset(token)


def read_session():
    """A short read-only session, so checks before a write do not hold SQLite's write lock."""
    from flask import current_app

    return app_session(current_app, write=False)


def write_session():
    """A session of its own that commits when the block succeeds, for writes that must land
    before the request ends (a WebSocket's evidence file is committed before its final reply)."""
    from flask import current_app

    return app_session(current_app, write=True)


def get_session() -> Session:
    """The request's session, opened on first use."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["wangge_sessionmaker"]()
    return g.db_session

"""SQLAlchemy base, naming convention and column types shared by every domain model."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.orm.exc import StaleDataError

from ledger.errors import VersionMismatch

# A fixed naming convention keeps constraint names identical on SQLite and PostgreSQL,
# which Alembic needs to alter or drop them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Stores naive UTC and always hands back aware UTC datetimes.

    SQLite drops tzinfo, so normalising at the type keeps both databases returning the
    same values and the API always emits an explicit offset.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base for all Wangge tables."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


def new_uuid() -> str:
    """A random UUID in canonical text form, the id format clients may also generate."""
    return str(uuid.uuid4())


_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normalize_uuid(value: str) -> str:
    """Canonical lower-case UUID text; raises ValueError for anything that is not a UUID."""
    if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
        return value  # already what str(UUID) gives: a sync push checks thousands
    return str(uuid.UUID(str(value)))


# SQLite only auto-increments "INTEGER PRIMARY KEY", so big ids fall back to Integer there.
BigIntPK = BigInteger().with_variant(Integer, "sqlite")


@contextmanager
def atomic(session: Session, on_integrity_error: Callable[[], Exception]) -> Iterator[None]:
    """Run a change in a SAVEPOINT and flush it; a lost race on a unique index becomes a 409.

    The savepoint must open before the first change: SQLAlchemy flushes pending changes
    when it opens one, and a failure there would poison the whole request's transaction.
    ``on_integrity_error`` runs after the savepoint rolled back, so it may query freely.
    """
    try:
        with session.begin_nested():
            yield
            session.flush()
    except StaleDataError:
        # Another transaction committed a new version between our read and our write.
        raise VersionMismatch() from None
    except IntegrityError:
        raise on_integrity_error() from None

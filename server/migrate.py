"""Programmatic Alembic: upgrade the schema to head on the app's engine."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Create or upgrade the schema; safe to run again and from several processes."""
    cfg = alembic_config()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Workers starting together must not race to create the same tables.
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(747001)")
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    optimize(engine)


def optimize(engine: Engine) -> None:
    """Refresh planner statistics; without them SQLite ignores the list indexes."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA optimize=0x10002")
        else:
            conn.exec_driver_sql("ANALYZE")
        conn.commit()

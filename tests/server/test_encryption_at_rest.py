"""Residents' ID numbers and phones never reach the database (or its WAL) in plaintext."""

from __future__ import annotations

import random
import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import make_id_number

NAMES = ("欧阳明远", "司马晓雯", "诸葛云帆")


def random_phone() -> str:
    return random.choice(("139", "158", "186")) + f"{random.randrange(10**8):08d}"


@pytest.fixture
def residents(worker_a, staff):
    """Three people registered and then edited through the API, every request committed."""
    people = []
    for i, name in enumerate(NAMES):
        number = make_id_number(date(1970 + i, i + 1, 10 + i), "男" if i % 2 else "女")
        phone = random_phone()
        r = worker_a.post(
            "/api/v1/people",
            json={"name": name, "id_number": number, "phone": phone, "area": worker_a.area},
        )
        assert r.status_code == 201, r.get_json()
        people.append({"id": r.get_json()["id"], "name": name, "id_number": number, "phone": phone})

    # Edits re-encrypt: the new values must not leak either, nor linger from the old ones.
    edited = people[0]
    new_number = make_id_number(date(1970, 1, 10), "女")
    new_phone = random_phone()
    r = worker_a.patch(
        f"/api/v1/people/{edited['id']}",
        json={"id_number": new_number, "phone": new_phone},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 200, r.get_json()
    people.append({**edited, "id_number": new_number, "phone": new_phone})

    # Reveals, searches and rejected duplicates all touch the numbers too.
    for person in people[1:]:
        revealed = worker_a.get(f"/api/v1/people/{person['id']}?reveal=1").get_json()
        assert revealed["id_number"] == person["id_number"]
        assert revealed["phone"] == person["phone"]
        found = staff.get(f"/api/v1/people?id_number={person['id_number']}").get_json()["items"]
        assert [p["id"] for p in found] == [person["id"]]
        found = staff.get(f"/api/v1/people?phone={person['phone']}").get_json()["items"]
        assert [p["id"] for p in found] == [person["id"]]
    dup = worker_a.post(
        "/api/v1/people",
        json={"name": "重复", "id_number": people[1]["id_number"], "area": worker_a.area},
    )
    assert dup.status_code == 409
    return people


def secrets_of(people) -> list[bytes]:
    values = {p["id_number"] for p in people} | {p["phone"] for p in people}
    return sorted(v.encode("ascii") for v in values)


def sqlite_path(base_config) -> Path | None:
    url = make_url(base_config["DATABASE_URL"])
    if url.get_backend_name() != "sqlite" or not url.database:
        return None
    return Path(url.database)


def raw_bytes(db: Path) -> bytes:
    data = db.read_bytes()
    wal = db.with_name(db.name + "-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data


def test_sqlite_files_hold_no_plaintext(app, base_config, residents):
    db = sqlite_path(base_config)
    if db is None:
        pytest.skip("byte scan needs the SQLite database file")
    wal = db.with_name(db.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0, "expected committed pages in the WAL"

    for label in ("before checkpoint", "after checkpoint"):
        data = raw_bytes(db)
        # The scan reads real data: the residents' names are stored as plain UTF-8.
        for name in NAMES:
            assert name.encode() in data, (label, name)
        for secret in secrets_of(residents):
            assert secret not in data, (label, secret[:3])
        if label == "before checkpoint":
            # A connection of our own in autocommit mode: a checkpoint cannot run inside the
            # transaction SQLAlchemy would open.
            conn = sqlite3.connect(db, isolation_level=None)
            try:
                busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            finally:
                conn.close()
            assert busy == 0
            assert not wal.exists() or wal.stat().st_size == 0

    # And row by row, as a dump of the database would show it.
    conn = sqlite3.connect(db)
    try:
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert NAMES[0] in dump
    for secret in secrets_of(residents):
        assert secret.decode() not in dump


def test_postgres_columns_hold_no_plaintext(app, base_config, residents):
    engine = app.extensions["wangge_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("column check is for PostgreSQL; SQLite is scanned byte by byte")
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT p::text FROM people p")).scalars().all()
        enc = conn.execute(
            text("SELECT id_number_enc, phone_enc, id_number_bidx, phone_bidx FROM people")
        ).all()
    assert any(NAMES[0] in row for row in rows)
    for secret in secrets_of(residents):
        assert not any(secret.decode() in row for row in rows)
        for id_enc, phone_enc, id_bidx, phone_bidx in enc:
            assert secret not in bytes(id_enc) and secret not in bytes(phone_enc)
            assert secret.decode() not in (id_bidx, phone_bidx)


def test_ciphertext_is_stored_and_reveal_round_trips(app, worker_a, residents):
    session = app.extensions["wangge_sessionmaker"]()
    try:
        stored = {
            row.id: row
            for row in session.execute(
                text("SELECT id, id_number_enc, phone_enc, id_number_bidx FROM people")
            )
        }
    finally:
        session.close()
    latest = {p["id"]: p for p in residents}
    assert set(stored) == set(latest)
    for person_id, person in latest.items():
        row = stored[person_id]
        # Version byte, nonce, ciphertext and tag: longer than the plaintext, not equal to it.
        assert len(bytes(row.id_number_enc)) == 1 + 12 + 18 + 16
        assert len(bytes(row.phone_enc)) == 1 + 12 + len(person["phone"]) + 16
        assert row.id_number_bidx != person["id_number"] and len(row.id_number_bidx) == 64
        r = worker_a.get(f"/api/v1/people/{person_id}?reveal=1")
        assert r.status_code == 200
        assert r.get_json()["id_number"] == person["id_number"]
        assert r.get_json()["phone"] == person["phone"]
        masked = worker_a.get(f"/api/v1/people/{person_id}").get_json()
        assert masked["id_number"] != person["id_number"]
        assert masked["id_number"][-4:] == person["id_number"][-4:]


def test_audit_log_holds_no_plaintext(app, admin, staff, residents):
    # A delete writes the person's details into the audit trail too.
    assert staff.delete(f"/api/v1/people/{residents[2]['id']}").status_code == 204
    session = app.extensions["wangge_sessionmaker"]()
    try:
        rows = session.execute(
            text("SELECT action, object_id, details, actor, ip FROM audit_log")
        ).all()
    finally:
        session.close()
    actions = [row.action for row in rows]
    assert "person.reveal" in actions and "person.delete" in actions
    dumped = "\n".join(repr(tuple(row)) for row in rows)
    for secret in secrets_of(residents):
        assert secret.decode() not in dumped
    # The API view of the trail agrees.
    trail = str(admin.get("/api/v1/audit?limit=200").get_json())
    for secret in secrets_of(residents):
        assert secret.decode() not in trail

"""Offline-sync benchmark: push, pull, pull over a large change log, and concurrent devices.

Figures, printed as one JSON object on stdout (progress goes to stderr):

1. push: one request of 1,000 new residents, then one of 1,000 edits of them (and, as
   community staff, one of 1,000 deletes), through the app in-process (Flask test client:
   the sync engine plus the HTTP stack, no network; the process set up as a gunicorn worker
   is, with its start-up objects frozen out of the GC);
2. pull: 10,000 changes in pages of 500 (in-process), total time and per-page p50/p95;
3. pull page latency with the change log filled by bulk SQL to 10k, 100k and 1M rows (most
   in grids the puller cannot see), first with the planner statistics left as they were,
   then refreshed the way the app does at start; at each size also the page query alone,
   its plan, and a small push (does writing slow down as the log grows?);
4. 20 devices pushing 500 mutations each in batches of 50 to gunicorn (a real subprocess,
   gunicorn.conf.py), with residents registered by several devices at once, edits of the
   same records and replays (also concurrent), then an audit of the database: accepted
   mutations whose effect is missing (lost) and residents or mutations applied twice
   (duplicated). Both must be 0, or the exit status is 1.

Every run starts from freshly migrated empty databases: SQLite files in temp dirs by
default, or new databases created on the PostgreSQL server named by --database-url (and
dropped afterwards). Figures 1-3 share one database, in that order; figure 4 gets its own
(its change log empty, or filled first with --devices-log-rows).

    python bench/sync_bench.py [--database-url postgresql://user@host:port/db]
                               [--log-rows 1000000 | --skip-million] [--devices 20]
                               [--devices-log-rows 0] [--skip-devices] [--profile]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import requests
from benchkit import free_port, group_cpu_seconds, start_gunicorn, stop_gunicorn, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"
LOGIN = "/api/v1/auth/login"
PASSWORD = "Bench-Passw0rd-" + uuid.uuid4().hex[:8]
TARGET_PUSH_PER_S = 2000
TARGET_PULL_P95_MS = 100
ACCEPTED = ("applied", "merged", "conflict", "duplicate")

DISTRICT = ("330106", "西湖区")
STREET = ("330106001", "北山街道")
COMMUNITY = ("330106001001", "宝石社区")
PULL_GRID = COMMUNITY[0] + "001"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文晓东海燕婷雪梅琳浩宇"
REGIONS = ("330102", "330105", "330106", "330108", "330109", "330110", "330111")

_progress_t0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _progress_t0:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- data ------------------------------------------------------------------------------


class IdNumbers:
    """Unique, valid GB 11643 numbers (about one in eleven ends in X)."""

    def __init__(self, rng: random.Random) -> None:
        from ledger.registry.idnumber import check_digit

        self._check_digit = check_digit
        self._rng = rng
        self._seen: set[str] = set()
        self._first_day = date(1935, 1, 1).toordinal()
        self._last_day = date(2022, 12, 31).toordinal()

    def new(self) -> str:
        rng = self._rng
        for _ in range(1000):
            birth = date.fromordinal(rng.randint(self._first_day, self._last_day))
            first17 = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
            if first17 not in self._seen:
                self._seen.add(first17)
                return first17 + self._check_digit(first17)
        raise RuntimeError("could not find a fresh ID number in 1000 tries")


def fake_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def fake_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"


def fake_address(rng: random.Random, tag: str = "") -> str:
    return (
        f"浙江省杭州市西湖区北山街道宝石社区{rng.randint(1, 40)}幢"
        f"{rng.randint(1, 6)}单元{rng.randint(1, 18)}{rng.randint(1, 4):02d}室{tag}"
    )


def mutation(record_id: str | None = None, base: int | None = None, **fields) -> dict:
    return {
        "mutation_id": str(uuid.uuid4()),
        "entity": "person",
        "op": "upsert",
        "id": record_id or str(uuid.uuid4()),
        "base_version": base,
        "fields": fields,
    }


def new_person(rng: random.Random, ids: IdNumbers, grid: str) -> dict:
    return mutation(
        name=fake_name(rng),
        area=grid,
        id_number=ids.new(),
        phone=fake_phone(rng),
        current_address=fake_address(rng),
    )


def percentile(sorted_values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def latency_stats(values_ms: list[float]) -> dict[str, Any]:
    values = sorted(values_ms)
    return {
        "n": len(values),
        "p50_ms": _r(percentile(values, 0.50)),
        "p95_ms": _r(percentile(values, 0.95)),
        "max_ms": _r(values[-1]) if values else None,
        "mean_ms": _r(statistics.fmean(values)) if values else None,
    }


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# --- database and app ------------------------------------------------------------------


class FreshDatabase:
    """A new, empty database for this run: a SQLite file, or a new PostgreSQL database."""

    def __init__(self, url: str | None, data_dir: Path, label: str = "") -> None:
        from sqlalchemy.engine import make_url

        from server.config import normalize_database_url

        self._admin_url = None
        self.name = None
        if url is None:
            self.url = f"sqlite:///{data_dir / 'wangge.db'}"
        elif url.startswith("sqlite"):
            path = make_url(url).database
            if not path or path == ":memory:":
                raise SystemExit("--database-url: a SQLite file is needed (gunicorn shares it)")
            if label:
                path = str(Path(path).with_stem(f"{Path(path).stem}-{label}"))
            if Path(path).exists():
                raise SystemExit(f"{path} exists; the benchmark needs a fresh database file")
            self.url = make_url(url).set(database=path).render_as_string(hide_password=False)
        else:
            from sqlalchemy import create_engine

            admin = make_url(normalize_database_url(url))
            self.name = f"wangge_sync_bench_{uuid.uuid4().hex[:8]}"
            engine = create_engine(admin, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            finally:
                engine.dispose()
            self._admin_url = admin
            self.url = admin.set(database=self.name).render_as_string(hide_password=False)
        self.shown = make_url(self.url).render_as_string(hide_password=True)

    def drop(self) -> None:
        if self._admin_url is None:
            return
        from sqlalchemy import create_engine

        engine = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        finally:
            engine.dispose()


def build_app(config: dict[str, Any]):
    from server import create_app
    from server.migrate import upgrade

    app = create_app(config)
    upgrade(app.extensions["wangge_engine"])
    return app


def create_tree(app, device_grids: int, filler_communities: int, filler_grids: int) -> dict:
    """Our community (the puller's grid, the devices' grids) and others that fill the log."""
    from ledger.accounts.operations import create_user
    from ledger.areas.operations import create_area
    from server.auth.passwords import hash_password

    password_hash = hash_password(PASSWORD)  # one Argon2 hash for every bench account
    areas: dict[str, int] = {}
    users: dict[str, str] = {}

    def area(code: str, name: str, level: str, parent: str | None) -> None:
        areas[code] = create_area(session, code=code, name=name, level=level, parent_code=parent).id

    def user(username: str, role: str, code: str) -> None:
        create_user(
            session, None, username=username, password_hash=password_hash, role=role, area=code
        )
        users[username] = code

    with app.extensions["wangge_sessionmaker"]() as session:
        area(DISTRICT[0], DISTRICT[1], "district", None)
        area(STREET[0], STREET[1], "street", DISTRICT[0])
        area(COMMUNITY[0], COMMUNITY[1], "community", STREET[0])
        area(PULL_GRID, "宝石第1网格", "grid", COMMUNITY[0])
        user("bench-puller", "grid_worker", PULL_GRID)
        user("bench-staff", "community_staff", COMMUNITY[0])
        grids = []
        for i in range(device_grids):
            code = f"{COMMUNITY[0]}{i + 2:03d}"
            area(code, f"宝石第{i + 2}网格", "grid", COMMUNITY[0])
            grids.append(code)
        filler = []
        for c in range(filler_communities):
            community = f"{STREET[0]}{c + 2:03d}"
            area(community, f"其他社区{c + 2}", "community", STREET[0])
            for g in range(filler_grids):
                code = f"{community}{g + 1:03d}"
                area(code, f"其他社区{c + 2}第{g + 1}网格", "grid", community)
                filler.append(areas[code])
        session.commit()
    return {"areas": areas, "users": users, "device_grids": grids, "filler_area_ids": filler}


def add_users(app, specs: list[tuple[str, str]]) -> None:
    from ledger.accounts.operations import create_user
    from server.auth.passwords import hash_password

    password_hash = hash_password(PASSWORD)
    with app.extensions["wangge_sessionmaker"]() as session:
        for username, code in specs:
            create_user(
                session,
                None,
                username=username,
                password_hash=password_hash,
                role="grid_worker",
                area=code,
            )
        session.commit()


def login_local(client, username: str) -> dict[str, str]:
    r = client.post(LOGIN, json={"username": username, "password": PASSWORD})
    if r.status_code != 200:
        raise RuntimeError(f"login {username}: {r.status_code} {r.get_data(as_text=True)[:300]}")
    return {"Authorization": f"Bearer {r.get_json()['access_token']}"}


def push_local(client, headers, mutations: list[dict], device: str = "bench-phone"):
    t0 = time.perf_counter()
    r = client.post(PUSH, json={"device_id": device, "mutations": mutations}, headers=headers)
    seconds = time.perf_counter() - t0
    if r.status_code != 200:
        raise RuntimeError(f"push: {r.status_code} {r.get_data(as_text=True)[:500]}")
    return seconds, r.get_json()["results"]


def statuses(results: list[dict]) -> dict[str, int]:
    return dict(sorted(Counter(r["status"] for r in results).items()))


# --- 1. push ---------------------------------------------------------------------------


def bench_push(app, client, headers, ids, rng, args) -> dict:
    log("push: warm-up")
    push_local(client, headers, [new_person(rng, ids, PULL_GRID) for _ in range(20)])
    rounds = []
    for n in range(args.push_rounds):
        creates = [new_person(rng, ids, PULL_GRID) for _ in range(args.push_size)]
        if args.profile and n == 0:
            seconds, results = profiled(push_local, client, headers, creates)
        else:
            seconds, results = push_local(client, headers, creates)
        created = statuses(results)
        updates = [
            mutation(
                record_id=m["id"],
                base=1,
                notes=f"第{n}轮回访记录{i}",
                current_address=fake_address(rng, f"-{n}-{i}"),
            )
            for i, m in enumerate(creates)
        ]
        if args.profile and n == 0:
            useconds, uresults = profiled(push_local, client, headers, updates)
        else:
            useconds, uresults = push_local(client, headers, updates)
        updated = statuses(uresults)
        rounds.append(
            {
                "creates_seconds": round(seconds, 3),
                "creates_per_s": round(len(creates) / seconds, 1),
                "creates_statuses": created,
                "updates_seconds": round(useconds, 3),
                "updates_per_s": round(len(updates) / useconds, 1),
                "updates_statuses": updated,
            }
        )
        log(
            f"push round {n + 1}: {len(creates)} creates in {seconds:.2f}s "
            f"({len(creates) / seconds:.0f}/s) {created}; {len(updates)} updates in "
            f"{useconds:.2f}s ({len(updates) / useconds:.0f}/s) {updated}"
        )
    create_rates = sorted(r["creates_per_s"] for r in rounds)
    update_rates = sorted(r["updates_per_s"] for r in rounds)
    # Untimed: how many SQL statements one mutation costs (the listener would skew timings).
    engine = app.extensions["wangge_engine"]
    creates = [new_person(rng, ids, PULL_GRID) for _ in range(100)]
    with count_statements(engine) as created:
        push_local(client, headers, creates)
    updates = [mutation(record_id=m["id"], base=1, notes="回访") for m in creates]
    with count_statements(engine) as updated:
        push_local(client, headers, updates)
    deletes = bench_deletes(client, ids, rng, args)
    return {
        "mutations_per_request": args.push_size,
        "sql_statements_per_create": round(created["n"] / len(creates), 1),
        "sql_statements_per_update": round(updated["n"] / len(updates), 1),
        "creates_per_s_median": statistics.median(create_rates),
        "updates_per_s_median": statistics.median(update_rates),
        "creates_seconds_median": statistics.median(r["creates_seconds"] for r in rounds),
        "updates_seconds_median": statistics.median(r["updates_seconds"] for r in rounds),
        "rounds": rounds,
        "deletes": deletes,
        "target_mutations_per_s": TARGET_PUSH_PER_S,
        "meets_target": min(
            create_rates[len(create_rates) // 2], update_rates[len(update_rates) // 2]
        )
        >= TARGET_PUSH_PER_S,
    }


def bench_deletes(client, ids, rng, args) -> dict:
    """Community staff delete residents (grid workers may not), in a grid the pull figures
    do not read: one request of ``push_size`` deletes per round."""
    staff = login_local(client, "bench-staff")
    grid = f"{COMMUNITY[0]}002"
    rates = []
    for _ in range(args.push_rounds):
        creates = [new_person(rng, ids, grid) for _ in range(args.push_size)]
        push_local(client, staff, creates, device="bench-office")
        gone = [{**mutation(record_id=m["id"], base=1), "op": "delete", "fields": {}}
                for m in creates]  # fmt: skip
        seconds, results = push_local(client, staff, gone, device="bench-office")
        if statuses(results) != {"applied": len(gone)}:
            raise RuntimeError(f"deletes: {statuses(results)}")
        rates.append(round(len(gone) / seconds, 1))
    log(f"push: deletes {rates}/s")
    return {"per_s_median": statistics.median(rates), "per_s": rates}


@contextlib.contextmanager
def count_statements(engine):
    from sqlalchemy import event

    counter = {"n": 0}

    def count(*_args) -> None:
        counter["n"] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


def profiled(fn, *args):
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    out = profiler.runcall(fn, *args)
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(40)
    print(buf.getvalue(), file=sys.stderr)
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(25)
    print(buf.getvalue(), file=sys.stderr)
    return out


# --- 2. pull ---------------------------------------------------------------------------


def count_in_scope(app, area_id: int) -> int:
    from sqlalchemy import func, select

    from sync.models import SyncChange

    with app.extensions["wangge_sessionmaker"]() as session:
        return session.scalar(
            select(func.count()).select_from(SyncChange).where(SyncChange.area_id == area_id)
        )


def fill_grid(app, client, headers, ids, rng, area_id: int, target: int) -> dict:
    """Push new residents into the puller's grid until its change log holds ``target``."""
    missing = target - count_in_scope(app, area_id)
    pushed, seconds = 0, 0.0
    while missing > 0:
        batch = [new_person(rng, ids, PULL_GRID) for _ in range(min(1000, missing))]
        took, results = push_local(client, headers, batch)
        if any(r["status"] != "applied" for r in results):
            raise RuntimeError(f"fill push: {statuses(results)}")
        pushed, seconds, missing = pushed + len(batch), seconds + took, missing - len(batch)
    log(f"filled the puller's grid with {pushed} more residents ({seconds:.1f}s)")
    return {"pushed": pushed, "per_s": round(pushed / seconds, 1) if seconds else None}


def pull_everything(client, headers, limit: int) -> dict:
    pages: list[float] = []
    changes, ids, remaps = 0, set(), 0
    cursor = ""
    t0 = time.perf_counter()
    while True:
        p0 = time.perf_counter()
        r = client.get(PULL, query_string={"cursor": cursor, "limit": limit}, headers=headers)
        pages.append((time.perf_counter() - p0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"pull: {r.status_code} {r.get_data(as_text=True)[:300]}")
        body = r.get_json()
        changes += len(body["changes"])
        ids.update(c["id"] for c in body["changes"] if c["op"] == "upsert")
        remaps += len(body["remaps"])
        cursor = body["cursor"]
        if not body["has_more"]:
            break
    total = time.perf_counter() - t0
    return {
        "total_seconds": round(total, 3),
        "pages": len(pages),
        "changes": changes,
        "distinct_records": len(ids),
        **{f"page_{k}": v for k, v in latency_stats(pages).items() if k != "n"},
    }


def bench_pull(app, client, headers, ids, rng, area_id: int, args) -> dict:
    fill = fill_grid(app, client, headers, ids, rng, area_id, args.pull_changes)
    if args.profile:
        profiled(lambda: client.get(PULL, query_string={"limit": args.pull_page}, headers=headers))
    passes = []
    for n in range(args.pull_passes):
        result = pull_everything(client, headers, args.pull_page)
        passes.append(result)
        log(
            f"pull pass {n + 1}: {result['changes']} changes in {result['pages']} pages, "
            f"{result['total_seconds']:.2f}s, page p50 {result['page_p50_ms']}ms "
            f"p95 {result['page_p95_ms']}ms"
        )
        if result["changes"] != args.pull_changes:
            raise RuntimeError(f"pulled {result['changes']} changes, expected {args.pull_changes}")
    return {
        "changes": args.pull_changes,
        "page_size": args.pull_page,
        **passes[0],
        "later_passes": passes[1:],
        "fill": fill,
    }


# --- 3. pull over a large change log ---------------------------------------------------


def log_state(app) -> tuple[int, int, int, str]:
    from sqlalchemy import func, select

    from sync.models import SyncChange, SyncClock

    with app.extensions["wangge_sessionmaker"]() as session:
        rows = session.scalar(select(func.count()).select_from(SyncChange))
        clock = session.get(SyncClock, 1)
        return rows, clock.seq, clock.ms, clock.epoch


def fill_change_log(app, target: int, area_id: int, filler: list[int], rng) -> dict:
    """Bulk-insert change rows for other grids (records that need not exist) up to ``target``
    rows, moving some of the puller's own rows to new sequence numbers along the way (as if
    those residents were edited meanwhile), then advance the clock past them all."""
    from sqlalchemy import select

    from sync.models import SyncChange

    rows, seq, ms, _ = log_state(app)
    add = target - rows
    if add <= 0:
        return {"added": 0, "moved": 0, "seconds": 0.0}
    with app.extensions["wangge_sessionmaker"]() as session:
        own = list(
            session.scalars(select(SyncChange.record_id).where(SyncChange.area_id == area_id))
        )
    moves_total = min(len(own), max(1000, add // 200))
    movers = rng.sample(own, moves_total)
    new_seqs = add + moves_total
    engine = app.extensions["wangge_engine"]
    pg = engine.dialect.name == "postgresql"
    mark = "%s" if pg else "?"
    move_sql = (
        f"UPDATE sync_changes SET seq = {mark}, ms = {mark} "
        f"WHERE entity = 'person' AND record_id = {mark} AND area_id = {mark}"
    )
    insert_sql = (
        "INSERT INTO sync_changes (seq, entity, record_id, area_id, ms, deleted) "
        f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark})"
    )
    t0 = time.perf_counter()
    first_ms = ms + 1
    chunk = 50_000
    done_seqs, moved, added = 0, 0, 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        while done_seqs < new_seqs:
            size = min(chunk, new_seqs - done_seqs)
            # Moves spread evenly over the new sequence numbers.
            moves_here = round(moves_total * (done_seqs + size) / new_seqs) - moved
            slots = set(rng.sample(range(size), moves_here))
            inserts, updates = [], []
            for i in range(size):
                s = seq + done_seqs + i + 1
                tick = first_ms + (done_seqs + i) // 100
                if i in slots:
                    updates.append((s, tick, movers[moved + len(updates)], area_id))
                else:
                    record = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    entity = "household" if rng.random() < 0.1 else "person"
                    inserts.append(
                        (s, entity, record, rng.choice(filler), tick, rng.random() < 0.03)
                    )
            if not pg:
                cur.execute("BEGIN IMMEDIATE")
            if pg:
                with cur.copy(
                    "COPY sync_changes (seq, entity, record_id, area_id, ms, deleted) FROM STDIN"
                ) as copy:
                    for row in inserts:
                        copy.write_row(row)
            else:
                cur.executemany(insert_sql, inserts)
            if updates:
                cur.executemany(move_sql, updates)
            last_seq = seq + done_seqs + size
            last_ms = first_ms + (done_seqs + size - 1) // 100
            cur.execute(
                f"UPDATE sync_clock SET seq = {mark}, ms = {mark} WHERE id = 1", (last_seq, last_ms)
            )
            if pg:
                raw.commit()
            else:
                cur.execute("COMMIT")
            done_seqs += size
            moved += len(updates)
            added += len(inserts)
        cur.close()
    finally:
        raw.close()
    seconds = time.perf_counter() - t0
    log(f"change log: +{added} rows, {moved} of the puller's rows moved ({seconds:.1f}s)")
    return {"added": added, "moved": moved, "seconds": round(seconds, 1)}


def refresh_statistics(app) -> None:
    """What the app does itself: ANALYZE after migrations (and on SQLite at each start)."""
    from server.migrate import optimize

    optimize(app.extensions["wangge_engine"])


def app_page_query(area_ids: list[int], after: int, upto: int):
    """The page query exactly as sync.pull builds it for a caller who sees these areas."""
    from types import SimpleNamespace

    from ledger.areas.scope import Scope
    from sync.pull import _page_query

    scope = Scope(area_ids=frozenset(area_ids))
    return _page_query(SimpleNamespace(scope=scope), after, upto, 501)


def explain_pull(app, area_ids: list[int], after: int, upto: int) -> list[str]:
    """The plan of the pull's page query (as sync.pull builds it) for these areas."""
    engine = app.extensions["wangge_engine"]
    query = app_page_query(area_ids, after, upto)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql).all()
            return [r[0] for r in rows]
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
        return [r[-1] for r in rows]


def pull_cursors(upto: int, count: int, rng) -> list[int | None]:
    """The start (no cursor), random ones, and a fifth near the end of the log."""
    cursors: list[int | None] = [None]
    cursors += [max(0, upto - rng.randint(0, 3000)) for _ in range(max(1, count // 5))]
    cursors += [rng.randint(0, upto) for _ in range(count - len(cursors))]
    return cursors


def page_query_times(app, area_ids: list[int], cursors, upto: int) -> dict:
    """The change-log query of each pull alone (the part that depends on the log's size)."""
    from server.db import write_intent

    times = []
    token = write_intent.set(False)  # a GET's read transaction, as in a pull
    try:
        for after in cursors:
            query = app_page_query(area_ids, after or 0, upto)
            with app.extensions["wangge_sessionmaker"]() as session:
                t0 = time.perf_counter()
                session.execute(query).all()
                times.append((time.perf_counter() - t0) * 1000)
    finally:
        write_intent.reset(token)
    return latency_stats(times)


def planner_statistics(app) -> str | None:
    """What the planner believes about sync_changes (rows per its statistics)."""
    engine = app.extensions["wangge_engine"]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            row = conn.exec_driver_sql(
                "SELECT c.reltuples::bigint, s.last_analyze, s.last_autoanalyze FROM pg_class c "
                "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.relname = 'sync_changes'"
            ).one()
            return f"reltuples={row[0]} last_analyze={row[1]} last_autoanalyze={row[2]}"
        if not conn.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).first():
            return "no sqlite_stat1 table"
        rows = conn.exec_driver_sql(
            "SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'sync_changes'"
        ).all()
        return "; ".join(f"{idx}: {stat}" for idx, stat in rows) or "no sqlite_stat1 rows"


def timed_pulls(client, headers, epoch: str, cursors) -> dict:
    """One page (limit 500) from each cursor, through the app."""
    times, sizes = [], []
    for c in cursors:
        cursor = f"{epoch}.{c}" if c is not None else ""
        t0 = time.perf_counter()
        r = client.get(PULL, query_string={"cursor": cursor, "limit": 500}, headers=headers)
        times.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise RuntimeError(f"pull: {r.status_code} {r.get_data(as_text=True)[:300]}")
        body = r.get_json()
        if body.get("reset"):
            raise RuntimeError(f"cursor {cursor} was reset")
        sizes.append(len(body["changes"]))
    return {
        **latency_stats(times),
        "mean_changes_per_page": round(statistics.fmean(sizes), 1),
        "full_pages": sum(1 for s in sizes if s == 500),
    }


def push_probe(client, headers, ids, rng, count: int = 200) -> dict:
    """One push of ``count`` new residents and one of ``count`` edits: does writing slow
    down as the change log grows?"""
    creates = [new_person(rng, ids, PULL_GRID) for _ in range(count)]
    seconds, results = push_local(client, headers, creates)
    updates = [mutation(record_id=m["id"], base=1, notes="回访") for m in creates]
    useconds, uresults = push_local(client, headers, updates)
    return {
        "mutations_per_request": count,
        "creates_per_s": round(count / seconds, 1),
        "creates_statuses": statuses(results),
        "updates_per_s": round(count / useconds, 1),
        "updates_statuses": statuses(uresults),
    }


def bench_large_log(app, client, tree, area_id: int, args, rng, ids, pusher) -> dict:
    worker = login_local(client, "bench-puller")
    staff = login_local(client, "bench-staff")
    community_ids = [
        i for code, i in tree["areas"].items() if code.startswith(COMMUNITY[0])
    ]  # the staff member's scope: the community and its grids
    levels = [n for n in (10_000, 100_000, 1_000_000) if n < args.log_rows] + [args.log_rows]
    out = []
    for target in levels:
        fill = fill_change_log(app, target, area_id, tree["filler_area_ids"], rng)
        rows, upto, _, epoch = log_state(app)
        own = count_in_scope(app, area_id)
        level: dict[str, Any] = {"rows": rows, "puller_rows": own, "fill": fill}
        mid = upto // 2
        for stats in ("stale_statistics", "fresh_statistics"):
            if stats == "fresh_statistics":
                t0 = time.perf_counter()
                refresh_statistics(app)
                level["analyze_seconds"] = round(time.perf_counter() - t0, 2)
            cursors = pull_cursors(upto, args.pulls, rng)
            staff_cursors = pull_cursors(upto, max(10, args.pulls // 2), rng)
            grid = timed_pulls(client, worker, epoch, cursors)
            grid["query_only"] = page_query_times(app, [area_id], cursors, upto)
            staff_pulls = timed_pulls(client, staff, epoch, staff_cursors)
            staff_pulls["query_only"] = page_query_times(app, community_ids, staff_cursors, upto)
            level[stats] = {
                "grid_worker": grid,
                "community_staff": staff_pulls,
                "planner_statistics": planner_statistics(app),
                "plan_grid_worker": explain_pull(app, [area_id], mid, upto),
                "plan_community_staff": explain_pull(app, community_ids, mid, upto),
            }
            if stats == "fresh_statistics":
                probe = push_probe(client, pusher, ids, rng)
                level[stats]["push_probe"] = probe
                log(
                    f"{rows} rows: push of {probe['mutations_per_request']} creates "
                    f"{probe['creates_per_s']}/s, of as many updates {probe['updates_per_s']}/s"
                )
            log(
                f"{rows} rows ({stats}): grid worker p50 {grid['p50_ms']}ms p95 "
                f"{grid['p95_ms']}ms ({grid['mean_changes_per_page']} changes/page, query "
                f"p95 {grid['query_only']['p95_ms']}ms); staff p50 {staff_pulls['p50_ms']}ms "
                f"p95 {staff_pulls['p95_ms']}ms (query p95 {staff_pulls['query_only']['p95_ms']}ms)"
            )
        out.append(level)
    final = out[-1]["fresh_statistics"]["grid_worker"]["p95_ms"]
    return {
        "page_size": 500,
        "levels": out,
        "target_p95_ms": TARGET_PULL_P95_MS,
        "target_rows": 1_000_000,
        "meets_target": out[-1]["rows"] >= 1_000_000 and final <= TARGET_PULL_P95_MS,
    }


# --- 4. concurrent devices against gunicorn --------------------------------------------


class Recorder:
    """Every push request and every result the devices saw, shared by the client threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, tuple[str, dict]] = {}  # mutation_id -> (device, mutation)
        self.first: dict[str, dict] = {}  # mutation_id -> first result seen
        self.mismatches: list[tuple[str, dict, dict]] = []
        self.latencies: list[float] = []
        self.replay_latencies: list[float] = []
        self.errors: list[str] = []
        self.transport_retries: list[str] = []  # dropped connections a retry got past
        self.requests = 0
        self.replays = 0

    def record(
        self, device: str, batch: list[dict], results: list[dict], ms: float, replay: bool
    ) -> None:
        with self.lock:
            self.requests += 1
            (self.replay_latencies if replay else self.latencies).append(ms)
            self.replays += replay
            by_id = {r["mutation_id"]: r for r in results}
            for m in batch:
                mid = m["mutation_id"]
                self.sent.setdefault(mid, (device, m))
                result = by_id.get(mid)
                if result is None:
                    self.errors.append(f"no result for mutation {mid}")
                elif mid not in self.first:
                    self.first[mid] = result
                elif self.first[mid] != result:
                    self.mismatches.append((mid, self.first[mid], result))


class Device:
    def __init__(self, index: int, grid: str, position: int, args) -> None:
        self.index = index
        self.grid = grid
        self.position = position  # among the devices of its grid
        self.name = f"bench-device-{index + 1:02d}"
        self.user = f"bench-device-user-{index + 1:02d}"
        self.token = ""
        self.batches: list[list[dict]] = []
        self.unique: list[dict] = []
        self.shared: list[dict] = []


def plan_devices(args, grids: list[str], ids: IdNumbers, rng: random.Random) -> list[Device]:
    """Creates per device: own residents, plus residents every device of the grid registers
    (same ID number, a record id of each device's own, partly different fields)."""
    per = args.mutations_per_device
    n_shared, n_edits = per // 10, per * 3 // 10
    n_unique = per - n_shared - n_edits
    shared = {g: [(ids.new(), fake_name(rng)) for _ in range(n_shared)] for g in grids}
    devices = []
    for i in range(args.devices):
        grid = grids[i % len(grids)]
        dev = Device(i, grid, i // len(grids), args)
        dev.unique = [new_person(rng, ids, grid) for _ in range(n_unique)]
        for number, name in shared[grid]:
            fields: dict[str, Any] = {"name": name, "area": grid}
            # Some devices type the check digit X in lower case: the same resident.
            fields["id_number"] = number.lower() if dev.position % 2 else number
            if dev.position % 2 == 0:
                fields["current_address"] = fake_address(rng, f"({dev.name})")
            else:
                fields["phone"] = fake_phone(rng)
            dev.shared.append(mutation(**fields))
        creates = dev.unique + dev.shared
        rng.shuffle(creates)
        dev.batches = [creates[k : k + args.batch] for k in range(0, len(creates), args.batch)]
        devices.append(dev)
    return devices


def plan_edits(dev: Device, rec: Recorder, n_edits: int, batch: int, rng) -> list[list[dict]]:
    """Edits of the device's own residents and of the shared ones, from the versions the
    device was told; the shared ones collide with the other devices' edits."""
    accepted = [
        m for m in dev.unique if rec.first.get(m["mutation_id"], {}).get("status") in ACCEPTED
    ]
    shared = [
        m for m in dev.shared if rec.first.get(m["mutation_id"], {}).get("status") in ACCEPTED
    ]
    n_shared = min(len(shared), n_edits // 3)
    n_own = min(len(accepted), n_edits - n_shared)
    edits = []
    for j, m in enumerate(rng.sample(accepted, n_own)):
        version = rec.first[m["mutation_id"]]["version"]
        edits.append(
            mutation(
                record_id=m["id"],
                base=version,
                notes=f"{dev.name}:回访{j}",
                current_address=fake_address(rng, f"({dev.name}-{j})"),
            )
        )
    for j, m in enumerate(rng.sample(shared, n_shared)):
        version = rec.first[m["mutation_id"]]["version"]
        fields = {"notes": f"{dev.name}:共同{j}"}
        if dev.position % 2:
            fields["residence_type"] = "流动"
        # The device's own record id: merged ones are remapped to the canonical record.
        edits.append(mutation(record_id=m["id"], base=version, **fields))
    rng.shuffle(edits)
    return [edits[k : k + batch] for k in range(0, len(edits), batch)]


def send(
    session: requests.Session,
    base: str,
    dev: Device,
    batch: list[dict],
    rec: Recorder,
    replay: bool = False,
) -> list[dict] | None:
    """One push with up to 5 attempts (a device retries the same batch, as it would)."""
    body = {"device_id": dev.name, "mutations": batch}
    headers = {"Authorization": f"Bearer {dev.token}"}
    dropped: list[str] = []
    for attempt in range(5):
        t0 = time.perf_counter()
        try:
            r = session.post(f"{base}{PUSH}", json=body, headers=headers, timeout=120)
        except requests.RequestException as exc:
            # A kept-alive connection the server closed as it was reused, say: a phone
            # retries the same batch, so this is an error only if no retry gets through.
            dropped.append(f"{type(exc).__name__}: {exc}"[:300])
        else:
            ms = (time.perf_counter() - t0) * 1000
            if r.status_code == 200:
                results = r.json()["results"]
                rec.record(dev.name, batch, results, ms, replay or attempt > 0)
                with rec.lock:
                    rec.transport_retries += dropped
                return results
            rec.errors.append(f"HTTP {r.status_code}: {r.text[:300]}")
        time.sleep(0.5 * (attempt + 1))
    rec.errors += dropped
    return None


def send_twice_at_once(base: str, dev: Device, batch: list[dict], rec: Recorder) -> None:
    """The same batch from two threads at the same moment (a retry racing the original)."""
    barrier = threading.Barrier(2)

    def go(replay: bool) -> None:
        with requests.Session() as s:
            barrier.wait()
            send(s, base, dev, batch, rec, replay=replay)

    threads = [threading.Thread(target=go, args=(flag,)) for flag in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def run_device(
    base: str, dev: Device, rec: Recorder, args, start: threading.Barrier, rng: random.Random
) -> None:
    with requests.Session() as session:
        start.wait()
        for k, batch in enumerate(dev.batches):
            if k == 3 and dev.index % 3 == 0:
                send_twice_at_once(base, dev, batch, rec)
            else:
                send(session, base, dev, batch, rec)
            if k == 2:
                # A batch whose response the device lost: it sends it again, verbatim.
                send(session, base, dev, dev.batches[1], rec, replay=True)
        n_edits = args.mutations_per_device * 3 // 10
        edits = plan_edits(dev, rec, n_edits, args.batch, rng)
        for batch in edits:
            send(session, base, dev, batch, rec)
        if edits and dev.index % 2 == 0:
            send(session, base, dev, edits[0], rec, replay=True)
        dev.batches += edits


def bench_devices(app, tree, db_url: str, config: dict, data_dir: Path, args, ids, rng) -> dict:
    grids = tree["device_grids"]
    devices = plan_devices(args, grids, ids, rng)
    add_users(app, [(d.user, d.grid) for d in devices])
    rows_before = log_state(app)[0]
    app.extensions["wangge_engine"].dispose()

    port = free_port()
    base = f"http://{HOST}:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env.update(
        {
            "WANGGE_BIND": f"{HOST}:{port}",
            "WEB_CONCURRENCY": str(args.workers),
            "WANGGE_THREADS": str(args.threads),
            "WANGGE_OCR_PRELOAD": "0",
            "WANGGE_SPEECH_PRELOAD": "0",
            "WANGGE_DATABASE_URL": db_url,
            "WANGGE_DATA_DIR": str(data_dir),
            "WANGGE_SECRET_KEY": config["SECRET_KEY"],
            "WANGGE_PII_KEY": config["PII_KEY"],
            "WANGGE_ACCESS_LOG": "/dev/null",
        }
    )
    log_path = data_dir / "gunicorn.log"
    proc = start_gunicorn(env, log_path, "-c", "gunicorn.conf.py")
    rec = Recorder()
    try:
        wait_healthy(base, proc, log_path, timeout=120)
        log(f"gunicorn up on {base} ({args.workers} workers x {args.threads} threads)")
        for dev in devices:
            r = requests.post(
                f"{base}{LOGIN}", json={"username": dev.user, "password": PASSWORD}, timeout=60
            )
            if r.status_code != 200:
                raise RuntimeError(f"login {dev.user}: {r.status_code} {r.text[:300]}")
            dev.token = r.json()["access_token"]
        seeds = [rng.getrandbits(32) for _ in devices]
        ends: list[float] = []
        marks: dict[str, float] = {}

        def mark() -> None:
            marks["cpu_client"] = os.times().user + os.times().system
            marks["cpu_server"] = group_cpu_seconds(proc.pid) or 0.0
            marks["t0"] = time.perf_counter()

        start = threading.Barrier(len(devices), action=mark)

        def worker(dev: Device, seed: int) -> None:
            try:
                run_device(base, dev, rec, args, start, random.Random(seed))
            except Exception as exc:  # noqa: BLE001 - a thread must report, not die silently
                rec.errors.append(f"device {dev.name}: {type(exc).__name__}: {exc}"[:300])
            finally:
                ends.append(time.perf_counter())

        threads = [
            threading.Thread(target=worker, args=(d, s))
            for d, s in zip(devices, seeds, strict=True)
        ]
        log(
            f"{len(devices)} devices x {args.mutations_per_device} mutations, batches of "
            f"{args.batch}"
        )
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = max(ends) - marks["t0"]
        server_cpu = (group_cpu_seconds(proc.pid) or 0.0) - marks["cpu_server"]
        client_cpu = os.times().user + os.times().system - marks["cpu_client"]
        log(
            f"devices done in {wall:.1f}s; replaying {args.late_replays} batches from two "
            "threads each"
        )
        picks = [(d, rng.choice(d.batches)) for d in rng.sample(devices, args.late_replays)]
        racers = [
            threading.Thread(target=send_twice_at_once, args=(base, d, b, rec)) for d, b in picks
        ]
        for t in racers:
            t.start()
        for t in racers:
            t.join()
    finally:
        stop_gunicorn(proc)
        log("gunicorn stopped")
    errors_in_log = [
        line
        for line in log_path.read_text(errors="replace").splitlines()
        if "Traceback" in line or "ERROR" in line or "Error" in line
    ]
    unique_mutations = len(devices) * args.mutations_per_device
    planned = {m["mutation_id"] for d in devices for b in d.batches for m in b}
    all_results = list(rec.first.values())
    report = {
        "devices": len(devices),
        "grids": len(grids),
        "mutations_per_device": args.mutations_per_device,
        "batch": args.batch,
        "gunicorn": {"workers": args.workers, "threads": args.threads},
        "change_log_rows_before": rows_before,
        "mutations": len(planned),
        "planned_mutations": unique_mutations,
        "wall_seconds": round(wall, 2),
        "mutations_per_s": round(len(planned) / wall, 1),
        "requests": rec.requests,
        "replayed_requests": rec.replays,
        "request_latency": latency_stats(rec.latencies),
        "replay_latency": latency_stats(rec.replay_latencies),
        "server_cpu_seconds": round(server_cpu, 1),
        "client_cpu_seconds": round(client_cpu, 1),
        "errors": len(rec.errors),
        "error_samples": sorted(set(rec.errors))[:5],
        "transport_retries": len(rec.transport_retries),
        "transport_retry_samples": sorted(set(rec.transport_retries))[:3],
        "server_log_error_lines": len(errors_in_log),
        "server_log_error_samples": errors_in_log[:5],
        "statuses": statuses(all_results),
        "unacknowledged": len(planned - rec.first.keys()),
    }
    report["audit"] = audit(app, devices, rec, tree)
    report["pull_check"] = pull_check(app, devices, rec)
    log(
        f"concurrency: {report['mutations_per_s']} mutations/s, request p95 "
        f"{report['request_latency']['p95_ms']}ms, statuses {report['statuses']}, lost "
        f"{report['audit']['lost']}, duplicated {report['audit']['duplicated']}"
    )
    return report


def audit(app, devices: list[Device], rec: Recorder, tree) -> dict:
    """Lost: an accepted mutation whose effect is not in the database. Duplicated: a resident
    stored twice, or a mutation applied more than once."""
    from sqlalchemy import func, select

    from ledger.registry.idnumber import parse_id_number
    from ledger.registry.models import Person
    from sync.models import SyncConflict, SyncMutation, SyncRemap

    pii = app.extensions["wangge_pii"]
    code_of = {i: code for code, i in tree["areas"].items()}
    grid_ids = [tree["areas"][g] for g in tree["device_grids"]]
    names = [d.name for d in devices]
    with app.extensions["wangge_sessionmaker"]() as session:
        people = {
            p.id: p for p in session.scalars(select(Person).where(Person.area_id.in_(grid_ids)))
        }
        by_bidx = {p.id_number_bidx: p for p in people.values()}
        twice = session.execute(
            select(Person.id_number_bidx, func.count())
            .where(Person.id_number_bidx.is_not(None))
            .group_by(Person.id_number_bidx)
            .having(func.count() > 1)
        ).all()
        stored = {
            m.mutation_id: m
            for m in session.scalars(select(SyncMutation).where(SyncMutation.device_id.in_(names)))
        }
        conflicts_by_mutation: dict[str, list] = defaultdict(list)
        conflict_ids = set()
        for c in session.scalars(select(SyncConflict).where(SyncConflict.device_id.in_(names))):
            values = json.loads(pii.decrypt(c.values_enc, field="sync_conflict"))
            conflicts_by_mutation[c.mutation_id].append(values["client"])
            conflict_ids.add(c.id)
        remaps = {r.from_id: r.to_id for r in session.scalars(select(SyncRemap))}
        current = {}
        for p in people.values():
            phone = pii.decrypt(p.phone_enc, field="phone") if p.phone_enc else None
            current[p.id] = {
                "name": p.name,
                "current_address": p.current_address,
                "notes": p.notes,
                "residence_type": p.residence_type,
                "phone": phone,
                "area": code_of.get(p.area_id),
            }

    lost: Counter = Counter()
    dup: Counter = Counter()
    samples: list[str] = []

    def lose(kind: str, mid: str) -> None:
        lost[kind] += 1
        if len(samples) < 10:
            samples.append(f"{kind}: {mid} {rec.first.get(mid)}")

    # What each accepted mutation wrote (its fields minus those kept in a conflict), by record.
    writes: dict[str, list[tuple[int, str, set[str]]]] = defaultdict(list)
    accepted = {}
    for mid, result in rec.first.items():
        if result["status"] not in ACCEPTED:
            continue
        _, m = rec.sent[mid]
        accepted[mid] = (m, result)
        kept = set().union(*conflicts_by_mutation.get(mid, [{}]))
        writes[result["id"]].append((result["version"] or 0, mid, set(m["fields"]) - kept))
    numbers: set[str] = set()
    for mid, (m, result) in accepted.items():
        row = stored.get(mid)
        if row is None or row.status != result["status"]:
            lose("not_in_mutation_log", mid)
        person = current.get(result["id"])
        if person is None:
            lose("record_missing", mid)
            continue
        fields = dict(m["fields"])
        number = fields.pop("id_number", None)
        if number is not None:
            number = parse_id_number(number).number
            numbers.add(number)
            owner = by_bidx.get(pii.blind_index(number, field="id_number"))
            if owner is None or owner.id != result["id"]:
                lose("id_number_missing", mid)
            if result["status"] == "duplicate" and remaps.get(m["id"]) != result["id"]:
                lose("remap_missing", mid)
        if result["conflict_id"] and result["conflict_id"] not in conflict_ids:
            lose("conflict_missing", mid)
        kept: dict[str, Any] = {}
        for client in conflicts_by_mutation.get(mid, []):
            kept.update(client)
        version = result["version"] or 0
        for key, value in fields.items():
            if person.get(key) == value or kept.get(key) == value:
                continue
            # Overwritten later by another accepted mutation that wrote the same field.
            if any(v > version and key in keys for v, _, keys in writes[result["id"]]):
                continue
            lose(f"field_{key}", mid)

    # Duplicated: residents stored twice; mutations applied twice.
    dup["same_id_number_rows"] = sum(n - 1 for _, n in twice)
    dup["people_beyond_distinct_id_numbers"] = max(0, len(people) - len(numbers))
    dup["replay_result_differs"] = len(rec.mismatches)
    dup["conflicts_per_mutation_beyond_one"] = sum(
        len(v) - 1 for v in conflicts_by_mutation.values() if len(v) > 1
    )
    dup["mutation_log_rows_beyond_sent"] = max(0, len(stored) - len(rec.sent))
    highest: dict[str, int] = defaultdict(int)
    for _, result in accepted.values():
        highest[result["id"]] = max(highest[result["id"]], result["version"] or 0)
    dup["record_version_beyond_results"] = sum(
        1 for p in people.values() if p.version > highest.get(p.id, 0)
    )
    mismatch_samples = [f"{mid}: {a} != {b}" for mid, a, b in rec.mismatches[:5]]
    return {
        "lost": sum(lost.values()),
        "duplicated": sum(dup.values()),
        "lost_detail": dict(lost),
        "duplicated_detail": dict(dup),
        "lost_samples": samples,
        "mismatch_samples": mismatch_samples,
        "people_in_device_grids": len(people),
        "distinct_id_numbers_pushed": len(numbers),
        "accepted_mutations": len(accepted),
        "rejected_mutations": sum(1 for r in rec.first.values() if r["status"] == "rejected"),
        "rejected_samples": [r["errors"] for r in rec.first.values() if r["status"] == "rejected"][
            :3
        ],
        "mutation_log_rows": len(stored),
        "conflicts": sum(len(v) for v in conflicts_by_mutation.values()),
        "remaps": sum(1 for m, r in accepted.values() if r["status"] == "duplicate"),
    }


def pull_check(app, devices: list[Device], rec: Recorder) -> dict:
    """A fresh device of each grid pulls everything: exactly the grid's residents, and a
    remap for every duplicate registration."""
    from sqlalchemy import select

    from ledger.areas.models import Area
    from ledger.registry.models import Person

    client = app.test_client()
    missing = extra = remaps_missing = 0
    seen_grids = set()
    with app.extensions["wangge_sessionmaker"]() as session:
        for dev in devices:
            if dev.grid in seen_grids:
                continue
            seen_grids.add(dev.grid)
            expected = set(
                session.scalars(
                    select(Person.id)
                    .join(Area, Person.area_id == Area.id)
                    .where(Area.code == dev.grid)
                )
            )
            headers = {"Authorization": f"Bearer {dev.token}"}
            got, remaps, cursor = set(), set(), ""
            while True:
                r = client.get(PULL, query_string={"cursor": cursor, "limit": 500}, headers=headers)
                body = r.get_json()
                got.update(c["id"] for c in body["changes"] if c["op"] == "upsert")
                remaps.update(x["from_id"] for x in body["remaps"])
                cursor = body["cursor"]
                if not body["has_more"]:
                    break
            missing += len(expected - got)
            extra += len(got - expected)
            dups = {
                m["id"]
                for mid, (name, m) in rec.sent.items()
                if rec.first.get(mid, {}).get("status") == "duplicate"
                and m["fields"].get("area") == dev.grid
            }
            remaps_missing += len(dups - remaps)
    return {
        "grids": len(seen_grids),
        "missing": missing,
        "extra": extra,
        "remaps_missing": remaps_missing,
    }


# --- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server to create a fresh database on (dropped afterwards),\n"
        "or a SQLite file that does not exist yet; default: SQLite in a temp dir",
    )
    p.add_argument(
        "--log-rows",
        type=int,
        default=1_000_000,
        help="change-log rows to reach in figure 3 (measured at 10k, 100k, ...)",
    )
    p.add_argument("--skip-million", action="store_true", help="same as --log-rows 100000")
    p.add_argument("--push-size", type=int, default=1000, help="mutations per timed push")
    p.add_argument("--push-rounds", type=int, default=5, help="timed push rounds")
    p.add_argument("--only-push", action="store_true", help="figure 1 only")
    p.add_argument("--pull-changes", type=int, default=10_000, help="changes in figure 2")
    p.add_argument("--pull-page", type=int, default=500, help="page size in figure 2")
    p.add_argument("--pull-passes", type=int, default=2, help="full pulls in figure 2")
    p.add_argument("--pulls", type=int, default=50, help="timed pulls per level in figure 3")
    p.add_argument("--devices", type=int, default=20)
    p.add_argument("--devices-per-grid", type=int, default=4)
    p.add_argument("--mutations-per-device", type=int, default=500)
    p.add_argument("--batch", type=int, default=50, help="mutations per device request")
    p.add_argument(
        "--late-replays",
        type=int,
        default=10,
        help="batches resent from two threads at once after the devices finish",
    )
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers (WEB_CONCURRENCY)")
    p.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    p.add_argument("--filler-communities", type=int, default=10)
    p.add_argument("--filler-grids", type=int, default=20, help="grids per filler community")
    p.add_argument("--skip-devices", action="store_true", help="leave out figure 4")
    p.add_argument(
        "--devices-log-rows",
        type=int,
        default=0,
        help="fill figure 4's own database's change log to this many rows first (other grids)",
    )
    p.add_argument(
        "--profile", action="store_true", help="cProfile a push of creates, of edits, a pull page"
    )
    p.add_argument("--keep", action="store_true", help="keep the temp dir and the database")
    p.add_argument("--seed", type=int, default=20241124)
    args = p.parse_args(argv)
    if args.skip_million:
        args.log_rows = min(args.log_rows, 100_000)
    if args.log_rows < args.pull_changes:
        p.error("--log-rows must be at least --pull-changes")
    if args.devices < 1 or args.devices_per_grid < 1 or args.batch < 1:
        p.error("--devices, --devices-per-grid and --batch must be positive")
    args.late_replays = min(args.late_replays, args.devices)
    return args


def code_state() -> dict[str, Any]:
    """Which code was measured: the commit plus uncommitted changes (by their digest)."""
    import hashlib

    def git(*cmd: str) -> str:
        done = subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True, timeout=30)
        return done.stdout if done.returncode == 0 else ""

    diff = git("diff", "HEAD")
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or None,
        "uncommitted": [line for line in git("status", "--short").splitlines() if line],
        "diff_sha1": hashlib.sha1(diff.encode()).hexdigest()[:12] if diff else None,
    }


def database_version(app) -> str:
    engine = app.extensions["wangge_engine"]
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with engine.connect() as conn:
        return conn.exec_driver_sql("SHOW server_version").scalar()


def run_devices(args, secrets_config: dict[str, str], ids: IdNumbers, rng) -> dict:
    """Figure 4 on a fresh database of its own (optionally with a pre-filled change log)."""
    data_dir = Path(tempfile.mkdtemp(prefix="wangge-sync-bench-devices-"))
    db = FreshDatabase(args.database_url, data_dir, label="devices")
    log(f"devices: data dir {data_dir}, database {db.shown}")
    config = {"DATA_DIR": str(data_dir), "DATABASE_URL": db.url, "STORAGE": "local"}
    config.update(secrets_config)
    app = None
    ok = False
    try:
        app = build_app(config)
        device_grids = -(-args.devices // args.devices_per_grid)
        tree = create_tree(app, device_grids, args.filler_communities, args.filler_grids)
        if args.devices_log_rows:
            grid_id = tree["areas"][tree["device_grids"][0]]
            fill_change_log(app, args.devices_log_rows, grid_id, tree["filler_area_ids"], rng)
            refresh_statistics(app)
        result = bench_devices(app, tree, db.url, config, data_dir, args, ids, rng)
        ok = True
        return result
    finally:
        close_run(app, db, data_dir, keep=args.keep or not ok)


def close_run(app, db, data_dir: Path, *, keep: bool) -> None:
    """Release the app's connections, then drop the run's database and files (or say where
    they were kept: on request, or after a failure, to look at)."""
    if app is not None:
        app.extensions["wangge_engine"].dispose()
    if keep:
        log(f"kept {data_dir} and database {db.shown}")
    else:
        db.drop()
        shutil.rmtree(data_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    loadavg_start = os.getloadavg()
    started = time.perf_counter()
    # Only what this run sets: no stray WANGGE_* from the shell reaches the app.
    for key in [k for k in os.environ if k.startswith("WANGGE_")]:
        del os.environ[key]
    data_dir = Path(tempfile.mkdtemp(prefix="wangge-sync-bench-"))
    log(f"data dir {data_dir}")
    db = FreshDatabase(args.database_url, data_dir)
    log(f"database {db.shown}")
    keys = {"SECRET_KEY": secrets.token_urlsafe(48), "PII_KEY": secrets.token_hex(32)}
    config = {"DATA_DIR": str(data_dir), "DATABASE_URL": db.url, "STORAGE": "local", **keys}
    app = None
    ok = False
    report: dict[str, Any] = {"code": code_state()}
    try:
        app = build_app(config)
        engine = app.extensions["wangge_engine"]
        device_grids = -(-args.devices // args.devices_per_grid)
        tree = create_tree(app, device_grids, args.filler_communities, args.filler_grids)
        area_id = tree["areas"][PULL_GRID]
        log(f"{len(tree['areas'])} areas; database migrated and empty")
        client = app.test_client()
        headers = login_local(client, "bench-puller")
        ids = IdNumbers(rng)
        # What gunicorn.conf.py's post_worker_init does in every worker: this in-process
        # app then runs its requests the way a production worker does.
        gc.freeze()
        report["database"] = {
            "dialect": engine.dialect.name,
            "version": database_version(app),
            "url": db.shown,
        }
        report["push"] = bench_push(app, client, headers, ids, rng, args)
        if not args.only_push:
            report["pull"] = bench_pull(app, client, headers, ids, rng, area_id, args)
            report["pull_large_log"] = bench_large_log(
                app, client, tree, area_id, args, rng, ids, headers
            )
        ok = True
    finally:
        close_run(app, db, data_dir, keep=args.keep or not ok)
    if not (args.skip_devices or args.only_push):
        report["concurrency"] = run_devices(args, keys, ids, rng)

    report["machine"] = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_start": [round(x, 2) for x in loadavg_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    conc = report.get("concurrency")
    failed = conc is not None and (
        conc["audit"]["lost"]
        or conc["audit"]["duplicated"]
        or conc["errors"]
        or conc["unacknowledged"]
        or any(conc["pull_check"][k] for k in ("missing", "extra", "remaps_missing"))
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Resident-registry benchmark: bulk-load people into SQLite, then time list/lookup/create."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from benchkit import free_port, group_cpu_seconds, start_gunicorn, stop_gunicorn, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WORKERS = 2
THREADS = 4
TARGETS_MS = {"list": 50, "lookup": 20, "create": 50}
PASSWORD = "Bench-Passw0rd-" + uuid.uuid4().hex[:8]
BATCH = 5000
TAG_SHARE = 0.2

DISTRICT = ("330106", "西湖区")
STREET = ("330106001", "北山街道")
COMMUNITY = ("330106001001", "宝石社区")
# Hangzhou county-level codes; loaded residents and residents created during the run
# use disjoint regions, so a fresh number can never collide with a loaded one.
LOAD_REGIONS = ("330102", "330105", "330106", "330108", "330110")
CREATE_REGIONS = ("330109", "330111")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文晓东海燕婷雪梅琳浩宇"
TAGS = ("独居老人", "低保", "残疾人", "退役军人", "留守儿童", "重点关注", "新就业群体")
ETHNICITIES = ("汉",) * 18 + ("回", "满", "畲", "土家")

_progress_t0 = time.monotonic()


def log(message: str) -> None:
    print(f"[{time.monotonic() - _progress_t0:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- data generation -------------------------------------------------------------------


class IdNumbers:
    """Unique, valid GB 11643 numbers; regions keep loaded and created residents apart."""

    def __init__(self, rng: random.Random, regions: tuple[str, ...]) -> None:
        from ledger.registry.idnumber import check_digit

        self._check_digit = check_digit
        self._rng = rng
        self._regions = regions
        self._seen: set[str] = set()
        self._first_day = date(1935, 1, 1).toordinal()
        self._last_day = date(2022, 12, 31).toordinal()

    def new(self) -> tuple[str, date, str]:
        rng = self._rng
        for _ in range(1000):
            birth = date.fromordinal(rng.randint(self._first_day, self._last_day))
            order = rng.randint(0, 999)
            first17 = f"{rng.choice(self._regions)}{birth:%Y%m%d}{order:03d}"
            if first17 in self._seen:
                continue
            self._seen.add(first17)
            sex = "男" if order % 2 else "女"
            return first17 + self._check_digit(first17), birth, sex
        raise RuntimeError("could not find a fresh ID number in 1000 tries")


def fake_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def fake_phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}"


def fake_address(rng: random.Random) -> str:
    return (
        f"浙江省杭州市西湖区北山街道宝石社区{rng.randint(1, 40)}幢"
        f"{rng.randint(1, 6)}单元{rng.randint(1, 18)}{rng.randint(1, 4):02d}室"
    )


# --- set-up ----------------------------------------------------------------------------


def run_cli(env: dict[str, str], *args: str) -> None:
    cmd = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    log(f"flask {' '.join(args)}: {done.stdout.strip().splitlines()[-1]}")


def create_tree(app, grid_count: int) -> dict[str, Any]:
    """Areas plus one grid worker per grid and one community staff member; returns ids."""
    from ledger.accounts.operations import create_user
    from ledger.areas.operations import create_area
    from server.auth.passwords import hash_password

    # One Argon2 hash shared by all bench accounts keeps set-up quick.
    password_hash = hash_password(PASSWORD)
    grids: list[dict[str, Any]] = []
    with app.extensions["wangge_sessionmaker"]() as session:
        create_area(session, code=DISTRICT[0], name=DISTRICT[1], level="district", parent_code=None)
        create_area(
            session, code=STREET[0], name=STREET[1], level="street", parent_code=DISTRICT[0]
        )
        create_area(
            session,
            code=COMMUNITY[0],
            name=COMMUNITY[1],
            level="community",
            parent_code=STREET[0],
        )
        for i in range(1, grid_count + 1):
            code = f"{COMMUNITY[0]}{i:03d}"
            area = create_area(
                session,
                code=code,
                name=f"{COMMUNITY[1]}第{i}网格",
                level="grid",
                parent_code=COMMUNITY[0],
            )
            user = create_user(
                session,
                None,
                username=f"bench-worker-{i:03d}",
                password_hash=password_hash,
                role="grid_worker",
                area=code,
                display_name=f"第{i}网格网格员",
            )
            grids.append({"code": code, "area_id": area.id, "user": user.username, "uid": user.id})
        create_user(
            session,
            None,
            username="bench-staff",
            password_hash=password_hash,
            role="community_staff",
            area=COMMUNITY[0],
            display_name="社区工作人员",
        )
        session.commit()
    return {"grids": grids, "staff": "bench-staff"}


def bulk_load(app, grids: list[dict[str, Any]], people: int, rng: random.Random) -> dict:
    """Insert ``people`` encrypted residents and ~20% tag rows with Core, 5000 per transaction."""
    from sqlalchemy import insert

    from ledger.registry.models import Person, PersonTag

    pii = app.extensions["wangge_pii"]
    engine = app.extensions["wangge_engine"]
    ids = IdNumbers(rng, LOAD_REGIONS)
    now = datetime.now(UTC)
    span = int(timedelta(days=3 * 365).total_seconds())
    lookup_numbers: list[str] = []
    tag_rows_total = 0
    t0 = time.perf_counter()
    for start in range(0, people, BATCH):
        person_rows, tag_rows = [], []
        for n in range(start, min(start + BATCH, people)):
            grid = grids[n % len(grids)]
            number, birth, sex = ids.new()
            phone = fake_phone(rng)
            created = now - timedelta(seconds=rng.randint(60, span), microseconds=n % 1_000_000)
            person_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            address = fake_address(rng)
            person_rows.append(
                {
                    "id": person_id,
                    "name": fake_name(rng),
                    "sex": sex,
                    "ethnicity": rng.choice(ETHNICITIES),
                    "birth_date": birth,
                    "id_number_enc": pii.encrypt(number, field="id_number"),
                    "id_number_bidx": pii.blind_index(number, field="id_number"),
                    "phone_enc": pii.encrypt(phone, field="phone"),
                    "phone_bidx": pii.blind_index(phone, field="phone"),
                    "registered_address": address,
                    "current_address": address,
                    "residence_type": rng.choices(("户籍", "流动", "境外"), (80, 19, 1))[0],
                    "area_id": grid["area_id"],
                    "household_id": None,
                    "relationship_to_head": None,
                    "notes": None,
                    "version": 1,
                    "created_by": grid["uid"],
                    "created_at": created,
                    "updated_at": created,
                    "tags": [],
                }
            )
            if rng.random() < TAG_SHARE:
                tags = rng.sample(TAGS, rng.choice((1, 1, 2)))
                person_rows[-1]["tags"] = tags
                for position, tag in enumerate(tags):
                    tag_rows.append({"person_id": person_id, "tag": tag, "position": position})
            if n % 20 == 0:
                lookup_numbers.append(number)
        with engine.begin() as conn:
            conn.execute(insert(Person.__table__), person_rows)
            if tag_rows:
                conn.execute(insert(PersonTag.__table__), tag_rows)
        tag_rows_total += len(tag_rows)
        done = start + len(person_rows)
        if done % 20_000 == 0 or done == people:
            log(f"loaded {done}/{people} people ({time.perf_counter() - t0:.1f}s)")
    load_seconds = time.perf_counter() - t0
    # Outside any transaction (the app's "begin" hook would make it BEGIN IMMEDIATE).
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    engine.dispose()
    return {
        "load_seconds": round(load_seconds, 2),
        "tag_rows": tag_rows_total,
        "lookup_numbers": lookup_numbers,
    }


# --- gunicorn --------------------------------------------------------------------------


def login(base: str, username: str) -> str:
    r = requests.post(
        f"{base}/api/v1/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    if r.status_code != 200:
        raise RuntimeError(f"login {username}: {r.status_code} {r.text[:300]}")
    return r.json()["access_token"]


# --- load generation -------------------------------------------------------------------


def percentile(sorted_ms: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not sorted_ms:
        return None
    pos = (len(sorted_ms) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_ms) - 1)
    return sorted_ms[lo] + (sorted_ms[hi] - sorted_ms[lo]) * (pos - lo)


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def run_phase(
    name, op, *, total, clients, warmup, max_seconds, request_timeout, server_pgid=None
) -> dict:
    """``clients`` threads share ``total`` calls of ``op(session, i, timeout)`` -> error or None.

    Each thread first makes ``warmup`` untimed calls (indices ``total + ...``), then all
    threads start the timed part together.
    """
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    errors: list[str] = []
    ends: list[float] = []
    start = {"t": 0.0}
    cpu: dict[str, float | None] = {}

    def mark_start() -> None:
        cpu["client"] = own_cpu_seconds()
        cpu["server"] = group_cpu_seconds(server_pgid)
        start["t"] = time.perf_counter()

    barrier = threading.Barrier(clients, action=mark_start, timeout=max_seconds + 60)

    def client(k: int) -> None:
        with requests.Session() as session:
            for w in range(warmup):
                # Warm-up only: the timed part reports failures.
                with contextlib.suppress(requests.RequestException):
                    op(session, total + k * warmup + w, request_timeout)
            barrier.wait()
            deadline = start["t"] + max_seconds
            mine: list[float] = []
            my_errors: list[str] = []
            while time.perf_counter() < deadline:
                with lock:
                    i = next(counter)
                if i >= total:
                    break
                t0 = time.perf_counter()
                try:
                    err = op(session, i, request_timeout)
                except requests.RequestException as exc:
                    err = f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - t0
                if err is None:
                    mine.append(elapsed * 1000)
                else:
                    my_errors.append(err)
            with lock:
                latencies.extend(mine)
                errors.extend(my_errors)
                ends.append(time.perf_counter())

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max_seconds + warmup * request_timeout + 120)
    if any(t.is_alive() for t in threads):
        errors.append("client threads did not finish in time")
    client_cpu = own_cpu_seconds() - cpu["client"] if "client" in cpu else None
    server_end = group_cpu_seconds(server_pgid)
    server_cpu = (
        server_end - cpu["server"] if server_end is not None and cpu.get("server") else None
    )
    wall = (max(ends) - start["t"]) if ends and start["t"] else 0.0
    latencies.sort()
    n = len(latencies)
    result = {
        "n": n,
        "errors": len(errors),
        "p50_ms": _r(percentile(latencies, 0.50)),
        "p95_ms": _r(percentile(latencies, 0.95)),
        "p99_ms": _r(percentile(latencies, 0.99)),
        "mean_ms": _r(statistics.fmean(latencies)) if latencies else None,
        "max_ms": _r(latencies[-1]) if latencies else None,
        "rps": round((n + len(errors)) / wall, 1) if wall > 0 else None,
        "wall_seconds": round(wall, 2),
    }
    done = n + len(errors)
    if done:
        # CPU per request on both sides: with clients and server on the same cores,
        # these bound throughput (cores / cpu per request) and hence latency.
        if server_cpu is not None:
            result["server_cpu_ms_per_request"] = round(server_cpu * 1000 / done, 2)
        if client_cpu is not None:
            result["client_cpu_ms_per_request"] = round(client_cpu * 1000 / done, 2)
    if n + len(errors) < total:
        result["stopped_at_time_limit"] = True
    if errors:
        result["error_samples"] = sorted(set(errors))[:5]
    log(
        f"{name}: n={n} errors={len(errors)} p50={result['p50_ms']}ms "
        f"p95={result['p95_ms']}ms rps={result['rps']}"
    )
    return result


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def make_ops(base: str, grids: list[dict], tokens: dict[str, str], staff_token: str, plan: dict):
    def auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def op_list(session: requests.Session, i: int, timeout: float) -> str | None:
        grid = grids[i % len(grids)]
        r = session.get(
            f"{base}/api/v1/people",
            params={"area": grid["code"], "limit": 50},
            headers=auth(tokens[grid["code"]]),
            timeout=timeout,
        )
        if r.status_code != 200:
            return f"list {r.status_code}: {r.text[:200]}"
        count = len(r.json()["items"])
        return None if count == 50 else f"list returned {count} items"

    def op_lookup(session: requests.Session, i: int, timeout: float) -> str | None:
        numbers = plan["lookup_numbers"]
        r = session.get(
            f"{base}/api/v1/people",
            params={"id_number": numbers[(i * 7919) % len(numbers)]},
            headers=auth(staff_token),
            timeout=timeout,
        )
        if r.status_code != 200:
            return f"lookup {r.status_code}: {r.text[:200]}"
        count = len(r.json()["items"])
        return None if count == 1 else f"lookup returned {count} items"

    def op_create(session: requests.Session, i: int, timeout: float) -> str | None:
        body = plan["create_bodies"][i]
        r = session.post(
            f"{base}/api/v1/people",
            json=body,
            headers=auth(tokens[body["area"]]),
            timeout=timeout,
        )
        return None if r.status_code == 201 else f"create {r.status_code}: {r.text[:200]}"

    return {"list": op_list, "lookup": op_lookup, "create": op_create}


def create_bodies(count: int, grids: list[dict], rng: random.Random) -> list[dict]:
    ids = IdNumbers(rng, CREATE_REGIONS)
    bodies = []
    for i in range(count):
        number, _, _ = ids.new()
        bodies.append(
            {
                "name": fake_name(rng),
                "id_number": number,
                "phone": fake_phone(rng),
                "area": grids[i % len(grids)]["code"],
            }
        )
    return bodies


# --- main ------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--people", type=int, default=100_000, help="residents to bulk-load")
    p.add_argument("--requests", type=int, default=300, help="timed requests per operation")
    p.add_argument("--clients", type=int, default=8, help="concurrent client threads")
    p.add_argument("--grids", type=int, default=20, help="grids (each gets a grid worker)")
    p.add_argument("--warmup", type=int, default=3, help="untimed requests per client and op")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="WANGGE_DATA_DIR without a wangge.db yet (default: a temp dir, removed afterwards)",
    )
    p.add_argument("--keep", action="store_true", help="keep the temp data dir")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--max-seconds", type=float, default=300, help="time limit per operation")
    p.add_argument("--timeout", type=float, default=30, help="per-request timeout (s)")
    args = p.parse_args(argv)
    if args.requests < 1 or args.clients < 1 or args.grids < 1 or args.warmup < 0:
        p.error("--requests, --clients and --grids must be positive")
    if args.people < 60:
        p.error("--people must be at least 60 (a grid needs a full first page of 50)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    rng = random.Random(args.seed)
    # Each listed grid needs a full first page of 50 residents.
    grid_count = max(1, min(args.grids, args.people // 60))

    temp = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="wangge-bench-")) if temp else args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if (data_dir / "wangge.db").exists():
        raise SystemExit(f"{data_dir} already holds wangge.db; give a fresh --data-dir")
    # Only the data dir: the default SQLite file, secret and PII key all live in it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env["WANGGE_DATA_DIR"] = str(data_dir)
    for key in [k for k in os.environ if k.startswith("WANGGE_")]:
        del os.environ[key]
    os.environ["WANGGE_DATA_DIR"] = str(data_dir)
    log(f"data dir {data_dir}")

    proc = None
    ok = False
    loadavg_start = os.getloadavg()
    try:
        run_cli(env, "init-db")
        from server import create_app

        app = create_app()
        db_url = str(app.extensions["wangge_engine"].url)
        if db_url != f"sqlite:///{data_dir / 'wangge.db'}":
            raise RuntimeError(f"unexpected database {db_url}")
        tree = create_tree(app, grid_count)
        grids = tree["grids"]
        log(f"created {len(grids)} grids and {len(grids) + 1} users; loading {args.people} people")
        loaded = bulk_load(app, grids, args.people, rng)
        plan = {
            "lookup_numbers": loaded.pop("lookup_numbers"),
            "create_bodies": create_bodies(
                args.requests + args.clients * args.warmup, grids, random.Random(args.seed + 1)
            ),
        }

        port = free_port()
        base = f"http://{HOST}:{port}"
        gunicorn_log = data_dir / "gunicorn.log"
        proc = start_gunicorn(
            env, gunicorn_log, "-w", str(WORKERS), "--threads", str(THREADS), "-k", "gthread",
            "-b", f"{HOST}:{port}",
        )  # fmt: skip
        wait_healthy(base, proc, gunicorn_log, timeout=90)
        log(f"gunicorn up on {base} ({WORKERS} workers x {THREADS} threads)")
        tokens = {g["code"]: login(base, g["user"]) for g in grids}
        staff_token = login(base, tree["staff"])
        ops = make_ops(base, grids, tokens, staff_token, plan)

        results = {}
        for name in ("list", "lookup", "create"):
            results[name] = run_phase(
                name,
                ops[name],
                total=args.requests,
                clients=args.clients,
                warmup=args.warmup,
                max_seconds=args.max_seconds,
                request_timeout=args.timeout,
                server_pgid=proc.pid,
            )
        ok = True
    finally:
        if proc is not None:
            stop_gunicorn(proc)
            log("gunicorn stopped")
        if not ok:
            log(f"failed; data dir (with gunicorn.log) kept at {data_dir}")

    # The database file plus its WAL.
    db_bytes = sum(f.stat().st_size for f in data_dir.glob("wangge.db*") if f.is_file())
    if temp and not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)

    # A target counts as met only if its p95 is within bounds and no request failed.
    meets = {
        name: results[name]["p95_ms"] is not None
        and results[name]["p95_ms"] <= TARGETS_MS[name]
        and results[name]["errors"] == 0
        for name in TARGETS_MS
    }
    report = {
        "people": args.people,
        "load_seconds": loaded["load_seconds"],
        "person_tag_rows": loaded["tag_rows"],
        "grids": len(grids),
        "database_mb": round(db_bytes / 1e6, 1),
        "gunicorn": {"workers": WORKERS, "threads": THREADS},
        "clients": args.clients,
        "requests_per_operation": args.requests,
        **results,
        "targets": {f"{name}_p95_ms": ms for name, ms in TARGETS_MS.items()},
        "meets_targets": {**meets, "all": all(meets.values())},
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(),
            "loadavg_start": [round(x, 2) for x in loadavg_start],
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
    }
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 1 if any(results[name]["errors"] for name in results) else 0


if __name__ == "__main__":
    sys.exit(main())

"""Ledger benchmark: export 100,000 走访记录台账 entries to xlsx and csv, import a 10,000-row
xlsx, and time filtered entry lists over them. Prints JSON.

Exports and the import run the way a queue worker runs them: in a process of their own
(``--run-job``), so the figures are that process's wall time and peak RSS. The list query
goes through the app's real HTTP stack (a test client, no network) as community staff.

    python bench/ledger_bench.py                 # 100,000 entries, SQLite in a temp dir
    python bench/ledger_bench.py --entries 20000 # quicker
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from registry_bench import COMMUNITY, PASSWORD, create_tree, log, percentile, run_cli

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {"xlsx_seconds": 15.0, "xlsx_peak_rss_mb": 300.0, "csv_seconds": 5.0,
           "import_seconds": 10.0, "list_p95_ms": 100.0}  # fmt: skip
PURPOSES = ["日常走访", "政策宣传", "困难帮扶", "矛盾调解", "安全检查", "信息采集", "其他"]
SITUATIONS = [
    "老人独自居住，身体状况良好，生活能够自理，已提醒注意用电用气安全",
    "家中燃气管道老化，已告知物业并提醒住户尽快更换",
    "住户反映楼道照明损坏，已上报社区，约定三日内维修",
    "讲解城乡居民医保缴费政策，住户表示本月内完成缴费",
    "困难家庭申请临时救助，已指导准备材料并登记",
    "邻里因噪音产生矛盾，现场调解后双方达成谅解",
]
NAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "芳伟娜敏静丽强磊军洋勇艳杰涛明超秀英华平"


# --- set-up ----------------------------------------------------------------------------


def load_entries(app, grids: list[dict[str, Any]], count: int, rng: random.Random) -> float:
    """``count`` visits spread over the grids and two years, written through the domain."""
    from ledger.areas.models import Area
    from ledger.areas.scope import Scope
    from ledger.audit.operations import Actor
    from ledger.context import Ctx
    from ledger.ledgers.entries import build_entry
    from ledger.ledgers.templates import get_template

    started = time.perf_counter()
    pii = app.extensions["wangge_pii"]
    start_day = date(2025, 1, 1)
    with app.extensions["wangge_sessionmaker"]() as session:
        areas = {a.id: a for a in session.query(Area).filter(Area.level == "grid")}
        for begin in range(0, count, 5000):
            grid = grids[(begin // 5000) % len(grids)]
            ctx = Ctx(session, Actor(grid["uid"], grid["user"], "grid_worker"),
                      Scope.everything(), pii)  # fmt: skip
            template = get_template(ctx, "visit_log")
            batch = []
            for i in range(begin, min(begin + 5000, count)):
                g = grids[i % len(grids)]
                name = rng.choice(NAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                values = {
                    "visit_date": (start_day + timedelta(days=rng.randrange(700))).isoformat(),
                    "visited_name": name,
                    "address": f"宝石{rng.randint(1, 9)}路{rng.randint(1, 200)}号",
                    "purpose": rng.choice(PURPOSES),
                    "situation": rng.choice(SITUATIONS),
                    "visitor": g["user"],
                }
                batch.append(build_entry(ctx, template, areas[g["area_id"]], values))
            session.add_all(batch)
            session.commit()
            session.expunge_all()
    return time.perf_counter() - started


def import_sheet(rows: int, grids: list[dict[str, Any]], rng: random.Random) -> bytes:
    """A clerk's xlsx: title, 制表单位 line, header variants and dates typed every which way."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "constant_memory": True})
    ws = book.add_worksheet("走访记录")
    header = ["序号", "网格", "走访时间", "被走访人", "住址", "走访事由", "走访情况", "走访人员"]
    ws.merge_range(0, 0, 0, len(header) - 1, "宝石社区走访记录台账")
    ws.write_string(1, 0, "制表单位：宝石社区")
    for c, h in enumerate(header):
        ws.write_string(2, c, h)
    for r in range(rows):
        day = date(2024, 1, 1) + timedelta(days=rng.randrange(600))
        typed = rng.choice([
            f"{day.year}.{day.month}.{day.day}", f"{day.year}年{day.month}月{day.day}日",
            day.isoformat(), f"{day.year}/{day.month}/{day.day}",
        ])  # fmt: skip
        g = grids[r % len(grids)]
        cells = [str(r + 1), g["name"], typed, rng.choice(NAMES) + rng.choice(GIVEN),
                 f"宝石{rng.randint(1, 9)}路{rng.randint(1, 200)}号 ", rng.choice(PURPOSES),
                 rng.choice(SITUATIONS), "李网格"]  # fmt: skip
        for c, value in enumerate(cells):
            ws.write_string(r + 3, c, value)
    book.close()
    return out.getvalue()


# --- measuring -------------------------------------------------------------------------


def run_job_process(env: dict[str, str], job_id: str) -> dict[str, Any]:
    """Run one job in a fresh worker process; its wall time and peak RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--run-job", job_id],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, status, _usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out = proc.stdout.read().decode()
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"job process failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return {**result, "process_seconds": round(seconds, 2)}


def peak_rss_mb() -> float:
    """This process's own high-water RSS (VmHWM): unlike a child's ru_maxrss it does not
    inherit the parent's size from before the exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def child_run_job(job_id: str) -> int:
    """The worker side of ``run_job_process``: build the app once, run the job, report."""
    sys.path.insert(0, str(ROOT))
    from server import create_app
    from server.jobs.execute import run_job

    app = create_app()
    if job_id == "none":
        print(json.dumps({"status": "idle", "peak_rss_mb": peak_rss_mb()}))
        return 0
    started = time.perf_counter()
    status = run_job(app, job_id, "bench")
    seconds = time.perf_counter() - started
    from ledger.jobs.models import Job

    with app.extensions["wangge_sessionmaker"]() as session:
        job = session.get(Job, job_id)
        print(json.dumps({"status": status, "job_seconds": round(seconds, 2), "rows": job.rows,
                          "error": job.error, "result": job.result and {
                              k: job.result.get(k) for k in ("imported", "rejected",
                                                             "corrected_cells", "total_rows")},
                          "file_bytes": app.extensions["wangge_blobs"].size(job.file_sha256)
                          if job.file_sha256 else None, "peak_rss_mb": peak_rss_mb()}))  # fmt: skip
    return 0 if status == "done" else 1


def staff_ctx(app, session):
    from sqlalchemy import select

    from ledger.accounts.models import User
    from ledger.audit.operations import Actor
    from ledger.context import Ctx
    from server.auth.service import scope_for

    user = session.scalar(select(User).where(User.username == "bench-staff"))
    return Ctx(session, Actor(user.id, user.username, user.role), scope_for(session, user),
               app.extensions["wangge_pii"], app.extensions["wangge_blobs"])  # fmt: skip


def queue_export(app, fmt: str) -> str:
    from ledger.ledgers.exports.operations import start_export

    with app.extensions["wangge_sessionmaker"]() as session:
        job = start_export(staff_ctx(app, session), "visit_log", {"format": fmt},
                           runner="bench", may_reveal=True)  # fmt: skip
        session.commit()
        return job.id


def queue_import(app, data: bytes) -> str:
    import hashlib

    from ledger.ledgers.imports.operations import start_import

    blobs = app.extensions["wangge_blobs"]
    sha256 = blobs.put_bytes(data, "application/octet-stream")
    assert sha256 == hashlib.sha256(data).hexdigest()
    with app.extensions["wangge_sessionmaker"]() as session:
        job = start_import(staff_ctx(app, session), "visit_log", file_sha256=sha256,
                           filename="走访记录.xlsx", mode="valid_rows", area=None,
                           dry_run=False, runner="bench")  # fmt: skip
        session.commit()
        return job.id


def time_lists(app, grids: list[dict[str, Any]], requests_: int, rng: random.Random) -> dict:
    client = app.test_client()
    r = client.post("/api/v1/auth/login", json={"username": "bench-staff", "password": PASSWORD})
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    url = "/api/v1/ledgers/visit_log/entries"

    def query(i: int) -> dict[str, str]:
        g = grids[i % len(grids)]["code"]
        month = date(2025, 1, 1) + timedelta(days=30 * (i % 20))
        return [
            {"area": g, "date_from": month.isoformat(),
             "date_to": (month + timedelta(days=30)).isoformat()},
            {"data.purpose": PURPOSES[i % len(PURPOSES)], "area": g},
            {"q": "燃气", "date_from": month.isoformat()},
            {"area": COMMUNITY[0], "data.purpose": "困难帮扶", "date_from": month.isoformat()},
        ][i % 4]  # fmt: skip

    for i in range(8):
        client.get(url, query_string=query(i), headers=headers)
    timings = []
    rows = 0
    for i in range(requests_):
        started = time.perf_counter()
        resp = client.get(url, query_string=query(i), headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        if resp.status_code != 200:
            raise RuntimeError(f"list {resp.status_code}: {resp.get_data(as_text=True)[:300]}")
        rows += len(resp.get_json()["items"])
    timings.sort()
    # A word that appears in no entry makes the text filter read the whole ledger: shown
    # apart, since no index serves substring search yet.
    rare = []
    for _ in range(5):
        started = time.perf_counter()
        client.get(url, query_string={"q": "不存在的词语"}, headers=headers)
        rare.append((time.perf_counter() - started) * 1000)
    return {"requests": requests_, "avg_items": round(rows / requests_, 1),
            "p50_ms": round(percentile(timings, 0.5), 1),
            "p95_ms": round(percentile(timings, 0.95), 1),
            "text_absent_word_ms": round(sorted(rare)[2], 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--import-rows", type=int, default=10_000)
    p.add_argument("--requests", type=int, default=200, help="timed list requests")
    p.add_argument("--grids", type=int, default=20)
    p.add_argument("--seed", type=int, default=20261124)
    p.add_argument("--keep", action="store_true", help="keep the temp data dir")
    p.add_argument("--run-job", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run_job:
        return child_run_job(args.run_job)

    sys.path.insert(0, str(ROOT))
    rng = random.Random(args.seed)
    data_dir = Path(tempfile.mkdtemp(prefix="wangge-ledger-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANGGE_")}
    env["WANGGE_DATA_DIR"] = str(data_dir)
    for key in [k for k in os.environ if k.startswith("WANGGE_")]:
        del os.environ[key]
    os.environ["WANGGE_DATA_DIR"] = str(data_dir)
    log(f"data dir {data_dir}")
    try:
        run_cli(env, "init-db")
        from server import create_app

        app = create_app()
        tree = create_tree(app, args.grids)
        grids = tree["grids"]
        names = {g["code"]: f"{COMMUNITY[1]}第{i}网格" for i, g in enumerate(grids, start=1)}
        for g in grids:
            g["name"] = names[g["code"]]
        load_seconds = load_entries(app, grids, args.entries, rng)
        log(f"loaded {args.entries} entries in {load_seconds:.1f}s")

        idle = run_job_process(env, "none")
        figures: dict[str, Any] = {"worker_idle_rss_mb": idle["peak_rss_mb"]}
        for fmt in ("xlsx", "csv"):
            result = run_job_process(env, queue_export(app, fmt))
            if result["status"] != "done" or result["rows"] != args.entries:
                raise RuntimeError(f"{fmt} export: {result}")
            figures[f"export_{fmt}"] = result
            log(f"{fmt}: {result}")
        figures["list_filtered"] = time_lists(app, grids, args.requests, rng)
        log(f"list: {figures['list_filtered']}")
        sheet = import_sheet(args.import_rows, grids, rng)
        result = run_job_process(env, queue_import(app, sheet))
        if result["status"] != "done" or result["result"]["imported"] != args.import_rows:
            raise RuntimeError(f"import: {result}")
        figures["import_xlsx"] = {**result, "file_bytes": len(sheet)}
        log(f"import: {result}")
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    xlsx, csv_, imp = figures["export_xlsx"], figures["export_csv"], figures["import_xlsx"]
    measured = {
        "xlsx_seconds": xlsx["job_seconds"], "xlsx_peak_rss_mb": xlsx["peak_rss_mb"],
        "csv_seconds": csv_["job_seconds"], "import_seconds": imp["job_seconds"],
        "list_p95_ms": figures["list_filtered"]["p95_ms"],
    }  # fmt: skip
    print(json.dumps({
        "entries": args.entries,
        "import_rows": args.import_rows,
        "database": "sqlite",
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "max_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "figures": figures,
        "measured": measured,
        "targets": TARGETS,
        "meets_targets": {k: measured[k] <= TARGETS[k] for k in TARGETS},
    }, ensure_ascii=False, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Screenshots of the console's main pages for docs/screenshots/ (shown in the README).

Builds a throw-away data dir with the demo tree and some realistic content (residents,
ledger entries, reports along the loop, a sync conflict), serves the app on loopback and
drives Debian's headless Chromium through the pages at 1366×768 and on a tablet.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import threading
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.plugins.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

ID_CARD = ROOT / "tests" / "fixtures" / "ocr" / "0000_id_card_front.jpg"
GRID1, GRID2 = "330106001001001", "330106001001002"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = [
    "秀英",
    "桂英",
    "建国",
    "志强",
    "丽华",
    "海燕",
    "文博",
    "子涵",
    "国庆",
    "淑珍",
    "玉兰",
    "明",
]
STREETS = ["保俶路12号", "宝石一路8号", "宝石山下一弄3号", "少年宫路21号", "北山路45号"]
SITUATIONS = [
    "身体健康，生活正常",
    "反映楼道灯不亮",
    "血压偏高，已提醒就医",
    "家中无人，改日再访",
    "对垃圾分类有疑问，已讲解",
]
HOUSEHOLD_TYPE = "家庭户"
TAGS = ["老年人", "独居", "低保", "残疾人", "退役军人"]
REPORTS = [
    ("event.city.garbage", "3号楼门口垃圾堆积", "3号楼门口的垃圾堆了三天没人清运，味道很大"),
    ("event.city.overflow", "菜场后门垃圾桶满溢", "菜场后门两个垃圾桶满了，垃圾散落一地"),
    ("social.hazard.fire_exit", "消防通道被车堵住", "宝石一路8号消防通道停了两辆车，消防车进不来"),
    ("part.traffic.road", "人行道地砖松动", "保俶路12号门前人行道地砖松动，老人差点摔倒"),
    ("part.public.lamp", "小区路灯不亮", "少年宫路21号小区里面的路灯晚上一直不亮"),
    ("event.city.debris", "绿化带里有建筑垃圾", "北山路45号旁绿化带被倒了装修垃圾"),
    ("part.public.manhole", "井盖缺失", "宝石山下一弄路口井盖不见了，很危险"),
    ("event.street.vending", "占道经营", "早上菜场门口有流动摊贩占道经营"),
]


def id_number(rng: random.Random, sex: str) -> str:
    from ledger.registry.idnumber import check_digit

    birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 70))
    order = rng.randint(0, 99) * 10 + rng.choice(
        [1, 3, 5, 7, 9] if sex == "男" else [0, 2, 4, 6, 8]
    )
    first17 = f"330106{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


def scene_photo() -> bytes:
    """A plain picture for the demo's 处置 step (never a document photo: those are personal)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (196, 205, 214))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 300, 640, 480), fill=(120, 130, 120))
    draw.rectangle((420, 180, 560, 320), fill=(40, 110, 60))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    return buf.getvalue()


class Api:
    """A demo account talking to the JSON API through the app's test client."""

    def __init__(self, app, username: str, password: str) -> None:
        self.client = app.test_client()
        r = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert r.status_code == 200, r.get_json()
        self.headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}

    def call(self, method: str, url: str, ok=(200, 201, 204), **kw):
        r = self.client.open(
            url, method=method, headers={**self.headers, **kw.pop("headers", {})}, **kw
        )
        assert r.status_code in ok, (method, url, r.status_code, r.get_data(as_text=True)[:300])
        return r.get_json(silent=True)


def seed(app, creds: dict[str, str]) -> dict:
    """Demo content through the real API, as the field app and the office would make it."""
    rng = random.Random(20261124)
    worker1, worker2 = Api(app, "worker1", creds["worker1"]), Api(app, "worker2", creds["worker2"])
    staff, dispatcher = (
        Api(app, "staff", creds["staff"]),
        Api(app, "dispatcher", creds["dispatcher"]),
    )
    department = Api(app, "chengguan", creds["chengguan"])
    people = []
    for i in range(14):
        worker, grid = (worker1, GRID1) if i % 3 else (worker2, GRID2)
        sex = rng.choice("男女")
        body = {
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN),
            "sex": sex,
            "id_number": id_number(rng, sex),
            "phone": f"13{rng.randint(100000000, 999999999)}",
            "area": grid,
            "registered_address": "浙江省杭州市西湖区" + rng.choice(STREETS),
            "current_address": "杭州市西湖区" + rng.choice(STREETS),
            "residence_type": "户籍",
            "tags": rng.sample(TAGS, k=rng.randint(0, 2)),
        }
        people.append(worker.call("POST", "/api/v1/people", json=body))
    household = worker1.call(
        "POST",
        "/api/v1/households",
        json={
            "area": GRID1,
            "address": "杭州市西湖区保俶路12号3幢2单元301室",
            "household_type": HOUSEHOLD_TYPE,
        },
    )
    for p, rel in ((people[1], "户主"), (people[2], "配偶"), (people[4], "子")):
        worker1.call(
            "PATCH",
            f"/api/v1/people/{p['id']}",
            headers={"If-Match": str(p["version"])},
            json={"household_id": household["id"], "relationship_to_head": rel},
        )
    household = worker1.call(
        "PATCH",
        f"/api/v1/households/{household['id']}",
        headers={"If-Match": str(household["version"])},
        json={"head_person_id": people[1]["id"]},
    )

    for i in range(32):
        day = date(2026, 11, 24) - timedelta(days=i // 2)
        who = people[i % len(people)]
        data = {
            "visit_date": day.isoformat(),
            "visited_name": who["name"],
            "purpose": rng.choice(["日常走访", "政策宣传", "矛盾调解", "困难帮扶"]),
            "situation": rng.choice(SITUATIONS),
            "visitor": "第一网格网格员",
        }
        worker1.call(
            "POST", "/api/v1/ledgers/visit_log/entries", json={"area": GRID1, "data": data}
        )

    reports = []
    for i, (code, title, text) in enumerate(REPORTS):
        worker, grid = (worker1, GRID1) if i % 2 == 0 else (worker2, GRID2)
        lon = (120.1515 if grid == GRID1 else 120.1556) + rng.random() * 0.0033
        body = {
            "category": code,
            "title": title,
            "description": text,
            "area": grid,
            "location": {"lat": 30.2720 + rng.random() * 0.0045, "lon": lon},
            "urgency": "high" if "危险" in text or "消防" in text else "normal",
        }
        reports.append(worker.call("POST", "/api/v1/reports", json=body))

    def step(user, report, action, **data):
        user.call(
            "POST", f"/api/v1/reports/{report['id']}/transitions", json={"action": action, **data}
        )

    for r in reports[2:6]:
        step(dispatcher, r, "accept")
    for r in reports[3:6]:
        step(dispatcher, r, "dispatch", department="chengguan", comment="请尽快处置")
    step(department, reports[4], "start")
    step(department, reports[5], "start")
    photo = department.call(
        "POST",
        "/api/v1/files",
        data={"file": (io.BytesIO(scene_photo()), "done.png")},
        content_type="multipart/form-data",
    )
    step(department, reports[5], "resolve", photos=[photo["sha256"]], comment="已清理完毕")

    entry = worker1.call(
        "POST",
        "/api/v1/ledgers/visit_log/entries",
        json={
            "area": GRID1,
            "data": {
                "visit_date": "2026-11-23",
                "visited_name": people[3]["name"],
                "purpose": "日常走访",
                "situation": "地下室没有信号，回来补录",
                "visitor": "第一网格网格员",
            },
        },
    )
    staff.call(
        "PATCH",
        f"/api/v1/ledgers/visit_log/entries/{entry['id']}",
        headers={"If-Match": "1"},
        json={"data": {"situation": "办公室补录：老人血压偏高"}},
    )
    worker1.call(
        "POST",
        "/api/v1/sync/push",
        json={
            "device_id": "phone-1",
            "mutations": [
                {
                    "mutation_id": str(uuid.uuid4()),
                    "entity": "ledger_entry",
                    "op": "upsert",
                    "id": entry["id"],
                    "base_version": 1,
                    "fields": {"data": {"situation": "回访：老人已就医"}},
                    "client_time": "2026-11-24T08:00:00+08:00",
                }
            ],
        },
    )
    return {"people": people, "household": household, "reports": reports}


def serve(app):
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def shoot(base: str, creds: dict[str, str], made: dict, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)

        def page_for(username, width=1366, height=768):
            page = browser.new_context(
                viewport={"width": width, "height": height}, locale="zh-CN"
            ).new_page()
            page.goto(f"{base}/console/login")
            page.get_by_label("用户名").fill(username)
            page.get_by_label("密码").fill(creds[username])
            page.get_by_role("button", name="登录").click()
            page.wait_for_load_state("networkidle")
            return page

        def snap(page, name, path=None):
            if path:
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
            target = out / f"{name}.png"
            page.screenshot(path=str(target))
            saved.append(target)

        login = browser.new_context(
            viewport={"width": 1366, "height": 768}, locale="zh-CN"
        ).new_page()
        login.goto(f"{base}/console/login")
        snap(login, "01-login")
        dispatcher = page_for("dispatcher")
        snap(dispatcher, "02-dashboard")
        snap(dispatcher, "03-report-queue", "/console/reports?state=reported")
        snap(dispatcher, "04-report", f"/console/reports/{made['reports'][0]['id']}")
        staff = page_for("staff")
        snap(staff, "05-residents", "/console/people")
        snap(staff, "06-resident", f"/console/people/{made['people'][1]['id']}")
        snap(staff, "07-household", f"/console/households/{made['household']['id']}")
        snap(staff, "08-ledgers", "/console/ledgers")
        snap(staff, "09-ledger-entries", "/console/ledgers/visit_log")
        snap(staff, "10-conflicts", "/console/conflicts")
        worker = page_for("worker1")
        worker.goto(f"{base}/console/scan")
        worker.locator("input[type=file]").first.set_input_files(str(ID_CARD))
        worker.locator("form button[type=submit]").last.click()
        worker.wait_for_load_state("networkidle")
        snap(worker, "11-scan-review")
        admin = page_for("admin")
        snap(admin, "12-admin-users", "/console/admin/users")
        snap(admin, "13-admin-area", f"/console/admin/areas/{GRID1}")
        tablet = page_for("staff", 820, 1180)
        snap(tablet, "14-dashboard-tablet")
        browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data_dir:
        for name in list(os.environ):
            if name.startswith("WANGGE_"):
                del os.environ[name]
        os.environ["WANGGE_OCR_PRELOAD"] = "0"
        from server import create_app

        app = create_app({"DATA_DIR": data_dir})
        runner = app.test_cli_runner()
        assert runner.invoke(args=["init-db"]).exit_code == 0
        seeded = runner.invoke(args=["seed-demo"]).output
        creds = {}
        for line in seeded.splitlines():
            parts = line.split()
            if len(parts) == 4 and parts[0] in (
                "admin",
                "staff",
                "dispatcher",
                "worker1",
                "worker2",
                "chengguan",
            ):
                creds[parts[0]] = parts[1]
        made = seed(app, creds)
        server, base = serve(app)
        try:
            for path in shoot(base, creds, made, out):
                print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
        finally:
            server.shutdown()
            app.extensions["wangge_engine"].dispose()


if __name__ == "__main__":
    main()

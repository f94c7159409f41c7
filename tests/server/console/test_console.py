"""The web console through real HTTP: cookie sessions, CSRF, the dashboard and the report loop."""

from __future__ import annotations

import io
import re

from tests.plugins.reports import near
from tests.server.console.conftest import Browser, entry_conflict
from tests.server.resources.test_files import make_png


def test_pages_need_a_login_and_a_wrong_password_says_so(app, client, loop):
    r = client.get("/console/reports?state=reported")
    assert r.status_code == 302 and "/console/login?next=" in r.headers["Location"]
    b = Browser(app, loop.dispatcher)
    client = b.client
    # A login form without the page's token (posted from another site) is refused.
    r = client.post("/console/login", data={"username": loop.dispatcher.username,
                                            "password": loop.dispatcher.password})  # fmt: skip
    assert r.status_code == 400
    b.get("/console/login")
    r = b.post("/console/login", {"username": loop.dispatcher.username,
                                  "password": "wrong-Passw0rd"})  # fmt: skip
    assert r.status_code == 401 and "用户名或密码错误" in r.get_data(as_text=True)
    login = {"username": loop.dispatcher.username, "password": loop.dispatcher.password}
    r = b.post("/console/login?next=//evil.example/x", login)
    assert r.status_code == 302 and r.headers["Location"] == "/console/"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    # The API stays token based: the console cookie opens nothing there.
    assert client.get("/api/v1/reports").status_code == 401


def test_the_dashboard_counts_what_the_user_may_see(browsers, loop):
    loop.report()
    loop.report(location=near(300, 0))
    loop.report(user=loop.other_worker, area="G3", location=near(900, 0))
    staff = browsers(loop.staff)
    html = staff.get("/console/")
    assert "一张图" in html and "今日新增" in html
    assert re.search(r'<span class="n">2</span><span>已上报</span>', html)
    assert "待处理同步冲突" in html and "按时结案率" in html
    dispatcher = browsers(loop.dispatcher)
    assert re.search(r'<span class="n">3</span><span>已上报</span>', dispatcher.get("/console/"))


def test_a_report_goes_from_reported_to_closed_in_the_console(app, browsers, loop):
    report = loop.report(title="楼下垃圾堆积")
    rid = report["id"]
    dispatcher = browsers(loop.dispatcher)
    queue = dispatcher.get("/console/reports?state=reported")
    assert "楼下垃圾堆积" in queue
    page = dispatcher.get(f"/console/reports/{rid}")
    assert ">立案</button>" in page and ">不予立案</button>" in page
    assert ">核查通过</button>" not in page and ">开始处置</button>" not in page
    # Without the page's token the step is refused and nothing changes.
    r = dispatcher.client.post(f"/console/reports/{rid}/transitions", data={"action": "accept"})
    assert r.status_code == 400 and "页面已过期" in r.get_data(as_text=True)
    r = dispatcher.post(f"/console/reports/{rid}/transitions", {"action": "accept"})
    assert r.status_code == 302
    dispatcher.get(f"/console/reports/{rid}")
    step = {"action": "dispatch", "department": "huanwei", "comment": "请尽快清运"}
    r = dispatcher.post(f"/console/reports/{rid}/transitions", step)
    assert r.status_code == 302
    department = browsers(loop.huanwei)
    page = department.get(f"/console/reports/{rid}")
    assert ">开始处置</button>" in page and ">立案</button>" not in page
    department.post(f"/console/reports/{rid}/transitions", {"action": "start"})
    department.get(f"/console/reports/{rid}")
    # Resolving without a photo is refused with the reason on an error page.
    r = department.post(f"/console/reports/{rid}/transitions", {"action": "resolve"})
    assert r.status_code == 422 and "需要附现场照片" in r.get_data(as_text=True)
    png = make_png(seed=123)
    r = department.post(f"/console/reports/{rid}/transitions",
                        {"action": "resolve", "photos": (io.BytesIO(png), "done.png")},
                        content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    page = department.get(f"/console/reports/{rid}")
    assert "已处置" in page
    sha = re.findall(r"/console/files/([0-9a-f]{64})", page)[-1]
    assert department.client.get(f"/console/files/{sha}").data == png
    loop.step(loop.worker, rid, "verify", photos=[loop_photo(loop)])
    dispatcher.get(f"/console/reports/{rid}")
    r = dispatcher.post(f"/console/reports/{rid}/transitions", {"action": "close"})
    assert r.status_code == 302
    page = dispatcher.get(f"/console/reports/{rid}")
    assert "已结案" in page and "办理记录" in page
    for step in ("上报", "立案", "派遣", "开始处置", "处置完成", "核查通过", "结案"):
        assert f"<b>{step}</b>" in page
    assert loop.dispatcher.get(f"/api/v1/reports/{rid}").get_json()["state"] == "closed"


def loop_photo(loop):
    from tests.plugins.reports import photo

    return photo(loop.worker)


def test_logout_ends_the_session_and_errors_are_pages(browsers, loop):
    dispatcher = browsers(loop.dispatcher)
    html = dispatcher.get("/console/reports/00000000-0000-0000-0000-000000000000", status=404)
    assert "找不到该事件" in html
    dispatcher.get("/console/")
    r = dispatcher.post("/console/logout", {})
    assert r.status_code == 302 and r.headers["Location"].endswith("/console/login")
    r = dispatcher.client.get("/console/")
    assert r.status_code == 302 and "/console/login" in r.headers["Location"]
    # Grid workers may look, but the registers' roles still apply: no stats for them.
    worker = browsers(loop.worker)
    assert "按时结案率" not in worker.get("/console/")


def test_a_sync_conflict_is_resolved_with_one_click(builtin_ledgers, browsers, loop):
    from tests.server.resources.test_ledgers import entry_url

    created = entry_conflict(loop)

    staff = browsers(loop.staff)
    assert re.search(r'<span class="n">1</span><span>待处理同步冲突</span>', staff.get("/console/"))
    page = staff.get("/console/conflicts")
    assert "台账记录 · 同时修改" in page and "回访：老人已就医" in page
    assert "办公室补录：老人血压偏高" in page
    conflict_id = re.search(r'id="c-([0-9a-f-]+)"', page).group(1)
    r = staff.post(f"/console/conflicts/{conflict_id}", {"choice": "client"})
    assert r.status_code == 302
    assert "没有待处理的同步冲突" in staff.get("/console/conflicts")
    entry = loop.staff.get(entry_url("visit_log", created["id"])).get_json()
    assert entry["data"]["situation"] == "回访：老人已就医"
    # Grid workers have no conflict page.
    worker = browsers(loop.worker)
    assert "同步冲突" not in worker.get("/console/")
    assert worker.client.get("/console/conflicts").status_code == 403


G1_RING = [[120.1530, 30.2725], [120.1570, 30.2725], [120.1570, 30.2755], [120.1530, 30.2755]]
G1_BOUNDARY = {"type": "Polygon", "coordinates": [G1_RING]}


def test_the_dashboard_map_draws_grids_and_open_reports(browsers, loop):
    staff = browsers(loop.staff)
    assert "尚未设置网格边界" in staff.get("/console/")
    assert loop.admin.patch("/api/v1/areas/G1", json={"boundary": G1_BOUNDARY}).status_code == 200
    inside = loop.report(title="井盖缺失", location=near(0, 0))
    closed = loop.in_state("closed")
    loop.report(title="定位漂移", location={"lat": 39.9042, "lon": 116.4074})
    loop.report(user=loop.other_worker, area="G3", title="别的社区", location=near(50, 0))
    html = staff.get("/console/")
    svg = re.search(r"<svg class=\"reportmap\".*?</svg>", html, re.S).group(0)
    assert svg.count('<path class="area grid"') == 1 and ">宝石第一网格</text>" in svg
    # Open reports of the staff's community only; the closed one is off the map and the GPS
    # slip 1,100 km away is counted below the map instead of shrinking it to a dot.
    assert f'/console/reports/{inside["id"]}"' in svg and "井盖缺失（已上报）" in svg
    assert closed["id"] not in svg and "别的社区" not in svg and "定位漂移" not in svg
    assert "另有 1 件没有位置或位置在网格外" in html
    cx, cy = (float(v) for v in re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg).groups())
    assert 0 < cx < 800 and 0 < cy < 460
    # A grid worker of another community sees neither the boundary nor the reports.
    other = browsers(loop.other_worker)
    html = other.get("/console/")
    assert "宝石第一网格" not in html and "井盖缺失" not in html and "别的社区" in html


def test_a_dispatcher_sees_category_suggestions_and_a_mismatch_hint(browsers, loop):
    report = loop.report(title="小区路灯坏了", description="3号楼前面的路灯晚上一直不亮，很黑")
    page = browsers(loop.dispatcher).get(f"/console/reports/{report['id']}")
    suggested = re.search(r'<optgroup label="系统建议">(.*?)</optgroup>', page, re.S).group(1)
    assert suggested.count("<option") == 3 and "%）" in suggested
    # Filed as garbage, heard as a street light: the dispatcher is asked to check.
    assert "请核对" in page and "上报人选的是" in page
    # Department staff take no accept/dispatch step, so they get no suggestion either.
    loop.step(loop.dispatcher, report["id"], "accept")
    loop.step(loop.dispatcher, report["id"], "dispatch", department="huanwei")
    assert "系统建议" not in browsers(loop.huanwei).get(f"/console/reports/{report['id']}")


def test_a_recording_is_transcribed_at_the_desk(browsers, loop):
    from speech.text import cer
    from tests.server.resources.test_files import upload
    from tests.server.resources.test_reports_draft import CLIP

    sha = upload(loop.worker, CLIP.read_bytes(), "note.wav", "audio/wav").get_json()["sha256"]
    report = loop.report(title="语音上报", audio_file=sha)
    dispatcher = browsers(loop.dispatcher)
    page = dispatcher.get(f"/console/reports/{report['id']}")
    assert f'<audio controls preload="none" src="/console/files/{sha}"' in page
    assert ">转写录音</button>" in page
    r = dispatcher.post(f"/console/reports/{report['id']}/transcribe", {})
    assert r.status_code == 302
    page = dispatcher.get(f"/console/reports/{report['id']}")
    heard = re.search(r'<p class="text transcript">(.*?)</p>', page, re.S).group(1)
    assert cer("欢迎大家来体验达摩院推出的语音识别模型", heard) <= 0.15
    assert "录音已转写" in page and ">转写录音</button>" not in page
    assert loop.worker.get(f"/api/v1/reports/{report['id']}").get_json()["transcript"] == heard
    # A report without a recording has nothing to transcribe.
    bare = loop.report(title="无录音")
    r = dispatcher.post(f"/console/reports/{bare['id']}/transcribe", {})
    assert r.status_code == 422 and "没有录音" in r.get_data(as_text=True)


def test_a_dispatcher_merges_a_duplicate_from_its_page(browsers, loop):
    first = loop.report(title="路口井盖缺失", location=near(0, 0))
    second = loop.report(title="井盖没了", location=near(20, 10))
    dispatcher = browsers(loop.dispatcher)
    page = dispatcher.get(f"/console/reports/{second['id']}")
    assert "可能重复" in page and "建议派遣：环卫" in page and "来源</dt><dd>网格员上报" in page
    assert f'<option value="{first["id"]}">路口井盖缺失' in page
    step = {"action": "mark_duplicate", "duplicate_of": first["id"], "comment": "同一井盖"}
    assert dispatcher.post(f"/console/reports/{second['id']}/transitions", step).status_code == 302
    page = dispatcher.get(f"/console/reports/{second['id']}")
    assert "重复" in re.search(r"<h1>.*?</h1>", page, re.S).group(0)
    # The API sees the same merge.
    assert (
        loop.dispatcher.get(f"/api/v1/reports/{second['id']}").get_json()["duplicate_of"]
        == (first["id"])
    )

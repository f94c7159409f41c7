"""The console in a real headless Chromium (Debian's, driven by Playwright) over loopback:
two roles take a report from 已上报 to 已结案 by clicking through the pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.plugins.live import LiveServer
from tests.plugins.reports import photo
from tests.server.resources.test_files import make_png

CHROMIUM = "/usr/bin/chromium"
# This machine has no internet: keep Chromium from dialling out at start and while idle.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server.base
    server.stop()


@pytest.fixture
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def _signed_in(browser, live, user):
    page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN").new_page()
    page.goto(f"{live}/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(user.password)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="一张图")).to_be_visible()
    return page


def _step(page, label: str):
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def test_a_report_goes_through_the_loop_by_clicks(browser, live, loop, tmp_path):
    report = loop.report(title="楼道口垃圾堆积")
    dispatcher = _signed_in(browser, live, loop.dispatcher)
    dispatcher.get_by_role("link", name="已上报").first.click()
    dispatcher.get_by_role("link", name="楼道口垃圾堆积").click()
    expect(dispatcher.get_by_role("button", name="核查通过")).to_have_count(0)
    _step(dispatcher, "立案")
    expect(dispatcher.get_by_role("heading", name="楼道口垃圾堆积")).to_contain_text("已立案")
    dispatcher.get_by_label("派遣部门").select_option("huanwei")
    _step(dispatcher, "派遣")
    expect(dispatcher.locator("h1")).to_contain_text("已派遣")

    department = _signed_in(browser, live, loop.huanwei)
    department.goto(f"{live}/console/reports/{report['id']}")
    _step(department, "开始处置")
    done = tmp_path / "done.png"
    done.write_bytes(make_png(seed=7))
    department.get_by_label("现场照片").set_input_files(str(done))
    department.get_by_label("说明").fill("已清运完毕")
    _step(department, "处置完成")
    expect(department.locator("h1")).to_contain_text("已处置")
    # The worker's photo on the report, and the department's on 处置完成.
    expect(department.locator(".timeline img")).to_have_count(2)

    loop.step(loop.worker, report["id"], "verify", photos=[photo(loop.worker)])
    dispatcher.reload()
    _step(dispatcher, "结案")
    expect(dispatcher.locator("h1")).to_contain_text("已结案")
    expect(dispatcher.locator(".timeline li")).to_have_count(7)
    assert loop.admin.get(f"/api/v1/reports/{report['id']}").get_json()["state"] == "closed"

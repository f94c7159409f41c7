"""Console fixtures: a test-client user with its own cookie jar, and a real headless Chromium
(Debian's, driven by Playwright) against the app served on loopback."""

from __future__ import annotations

import re

import pytest

from tests.plugins.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.plugins.live import LiveServer


class Browser:
    """A user at the console: a cookie jar of its own (a test client) and the page's token."""

    def __init__(self, app, user):
        self.client = app.test_client()
        self.user = user
        self.csrf = None

    def login(self):
        self.get("/console/login")
        r = self.post("/console/login", {"username": self.user.username,
                                         "password": self.user.password})  # fmt: skip
        assert r.status_code == 302, r.get_data(as_text=True)[:500]
        return r

    def get(self, url, status=200):
        r = self.client.get(url)
        assert r.status_code == status, (url, r.status_code, r.get_data(as_text=True)[:500])
        html = r.get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', html)
        if token:
            self.csrf = token.group(1)
        return html

    def post(self, url, data, **kw):
        return self.client.post(url, data={"csrf_token": self.csrf, **data}, **kw)


@pytest.fixture
def browsers(app):
    """Factory: ``browsers(api_user)`` is that user logged in to the console."""

    def _open(user):
        b = Browser(app, user)
        b.login()
        return b

    return _open


@pytest.fixture
def live(app):
    server = LiveServer(app)
    yield server.base
    server.stop()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in(browser, live):
    """Factory: ``signed_in(api_user)`` is a 1366×768 Chromium page logged in as that user."""
    from playwright.sync_api import expect

    def _open(user, viewport=(1366, 768)):
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                      locale="zh-CN", accept_downloads=True)  # fmt: skip
        page = context.new_page()
        page.goto(f"{live}/console/login")
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill(user.password)
        page.get_by_role("button", name="登录").click()
        expect(page.get_by_role("heading", name="一张图")).to_be_visible()
        return page

    return _open


def entry_conflict(loop) -> dict:
    """A visit-log entry a worker edited offline while staff edited it in the office: one open
    sync conflict (device: 回访：老人已就医, server: 办公室补录：老人血压偏高); returns it."""
    from tests.server.resources.test_ledgers import entry_url
    from tests.server.resources.test_sync import mutation, push

    data = {"visit_date": "2026-11-20", "visited_name": "王芳", "purpose": "日常走访",
            "situation": "地下室没有信号", "visitor": "李网格"}  # fmt: skip
    created = mutation("ledger_entry", ledger="visit_log", area="G1", data=data)
    assert push(loop.worker, created)[0]["status"] == "applied"
    r = loop.staff.patch(entry_url("visit_log", created["id"]),
                         json={"data": {"situation": "办公室补录：老人血压偏高"}},
                         headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200
    edit = mutation("ledger_entry", record_id=created["id"], base=1,
                    data={"situation": "回访：老人已就医"})  # fmt: skip
    assert push(loop.worker, edit)[0]["status"] == "conflict"
    return created

"""The console in a real headless Chromium (Debian's, driven by Playwright) over loopback:
two roles take a report from 已上报 to 已结案 by clicking through the pages."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.plugins.reports import photo
from tests.server.console.conftest import entry_conflict
from tests.server.resources.test_files import make_png


def _step(page, label: str):
    page.get_by_role("button", name=label, exact=True).click()
    page.wait_for_load_state()


def test_a_report_goes_through_the_loop_by_clicks(signed_in, live, loop, tmp_path):
    report = loop.report(title="楼道口垃圾堆积")
    dispatcher = signed_in(loop.dispatcher)
    dispatcher.get_by_role("link", name="已上报").first.click()
    dispatcher.get_by_role("link", name="楼道口垃圾堆积").click()
    expect(dispatcher.get_by_role("button", name="核查通过")).to_have_count(0)
    _step(dispatcher, "立案")
    expect(dispatcher.get_by_role("heading", name="楼道口垃圾堆积")).to_contain_text("已立案")
    dispatcher.get_by_label("派遣部门").select_option("huanwei")
    _step(dispatcher, "派遣")
    expect(dispatcher.locator("h1")).to_contain_text("已派遣")

    department = signed_in(loop.huanwei)
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


def test_a_sync_conflict_is_resolved_in_the_browser(builtin_ledgers, signed_in, loop):
    from tests.server.resources.test_ledgers import entry_url

    created = entry_conflict(loop)

    page = signed_in(loop.staff)
    page.get_by_role("link", name="待处理同步冲突").click()
    conflict = page.locator("section.conflict")
    expect(conflict).to_have_count(1)
    # The two values side by side on the row that differs.
    row = conflict.locator("tr.diff", has_text="回访：老人已就医")
    expect(row).to_contain_text("办公室补录：老人血压偏高")
    conflict.get_by_role("button", name="采用设备上的值").click()
    expect(page.get_by_text("没有待处理的同步冲突")).to_be_visible()
    entry = loop.staff.get(entry_url("visit_log", created["id"])).get_json()
    assert entry["data"]["situation"] == "回访：老人已就医"


def test_staff_find_a_resident_and_reveal_the_number(signed_in, make_person, staff, id_number):
    number = id_number()
    make_person(name="欧阳秀英", id_number=number, phone="13812345678")
    make_person(name="欧阳建国")
    page = signed_in(staff)
    page.get_by_role("link", name="居民", exact=True).click()
    page.get_by_label("查找居民").fill(number)
    page.get_by_role("button", name="查找").click()
    rows = page.locator("table tr", has_text="欧阳")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text(number[:6])
    expect(rows).not_to_contain_text(number)
    page.get_by_role("link", name="欧阳秀英").click()
    expect(page.get_by_role("heading", name="欧阳秀英")).to_be_visible()
    assert number not in page.content() and "13812345678" not in page.content()
    page.get_by_role("button", name="显示完整信息").click()
    expect(page.get_by_text(number)).to_be_visible()
    expect(page.get_by_text("13812345678")).to_be_visible()

"""Ledger pages of the console: the ledgers, a ledger's entries (scope, filters, sorting, pages),
the generated entry forms, exports with progress and download, imports with the row report."""

from __future__ import annotations

import html as htmllib
import io
import re
import time
from datetime import datetime
from html.parser import HTMLParser

import openpyxl
import pytest

from tests.server.resources.test_files import make_png
from tests.server.resources.test_imports import xlsx
from tests.server.resources.test_ledgers import entry_url, visit

JSON = {"Accept": "application/json"}


class Tables(HTMLParser):
    """Every ``<table id=...>`` of a page as rows of cell texts (whitespace collapsed)."""

    def __init__(self, page: str):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table = self._row = self._cell = None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id") or "", [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def entries(page: str) -> list[list[str]]:
    """The entries table's body rows (no table at all: none)."""
    return Tables(page).tables.get("entries", [[]])[1:]


def sort_links(page: str) -> dict[str, str]:
    """Column header label → the URL its click goes to."""
    found = re.findall(r'<a class="sort" href="([^"]+)">([^<]+?)(?: [▲▼])?</a>', page)
    return {label: htmllib.unescape(url) for url, label in found}


def next_page(page: str) -> str | None:
    found = re.search(r'<a class="button" href="([^"]+)">下一页</a>', page)
    return htmllib.unescape(found.group(1)) if found else None


def add(user, code="visit_log", **data):
    body = visit(user, **data) if code == "visit_log" else {"area": user.area, "data": data}
    r = user.post(entry_url(code), json=body)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def poll(browser, url, timeout=60):
    """Ask the job's page for JSON, as ledgers.js does, until the job ends."""
    deadline = time.monotonic() + timeout
    while True:
        r = browser.client.get(url, headers=JSON)
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        job = r.get_json()
        if job["finished"] or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_the_ledgers_are_listed_with_the_entries_in_your_areas(
    browsers, builtin_ledgers, worker_a, worker_b, staff
):
    add(worker_a)
    add(worker_a, visit_date="2026-11-04")
    add(worker_b)
    page = browsers(worker_a).get("/console/ledgers")
    rows = {r[0]: r for r in Tables(page).tables["ledgers"][1:]}
    assert set(rows) >= {"走访记录台账", "出租房屋台账", "实有人口台账 由居民信息生成"}
    assert rows["走访记录台账"][1] == "网格员入户走访的时间、对象、事由和情况"
    assert rows["走访记录台账"][2] == "2" and rows["出租房屋台账"][2] == "0"
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d", rows["走访记录台账"][3])
    assert rows["出租房屋台账"][3] == "—"
    assert 'href="/console/ledgers/visit_log"' in page
    rows = {r[0]: r for r in Tables(browsers(staff).get("/console/ledgers")).tables["ledgers"]}
    assert rows["走访记录台账"][2] == "3"


def test_the_entries_table_shows_only_your_areas_with_masked_numbers(
    browsers, builtin_ledgers, worker_a, worker_b, staff, make_user
):
    add(worker_a, visited_name="王芳", address="宝石一路8号")
    add(worker_b, visited_name="张伟")
    add(worker_a, "rental_housing", address="宝石二路3号", landlord_name="钱房东",
        landlord_phone="13900005678", tenant_count=2)  # fmt: skip
    page = browsers(worker_a).get("/console/ledgers/visit_log")
    header = Tables(page).tables["entries"][0]
    # The first short fields (not the resident link, long text or photos), then grid and time.
    assert header[:7] == ["走访日期 ▼", "被走访人", "走访地址", "走访事由", "走访人", "网格",
                          "更新时间"]  # fmt: skip
    rows = entries(page)
    assert [r[:6] for r in rows] == [["2026-11-03", "王芳", "宝石一路8号", "日常走访", "李网格",
                                      "宝石第一网格"]]  # fmt: skip
    assert "张伟" not in page
    assert ">新增记录</a>" in page and ">导出</a>" not in page and ">导入</a>" not in page
    staff_page = browsers(staff).get("/console/ledgers/visit_log")
    assert {r[1] for r in entries(staff_page)} == {"王芳", "张伟"}
    assert ">新增记录</a>" in staff_page and ">导出</a>" in staff_page and ">导入</a>" in staff_page
    outsider = browsers(make_user("grid_worker", "G3")).get("/console/ledgers/visit_log")
    assert entries(outsider) == [] and "还没有记录" in outsider
    # Personal values are masked as everywhere else; the number itself never reaches the page.
    rental = browsers(staff).get("/console/ledgers/rental_housing")
    assert entries(rental)[0][:6] == ["宝石二路3号", "钱房东", "—", "139****5678", "2", "—"]
    assert "13900005678" not in rental
    # Someone else's entry cannot be opened by its address either.
    ids = re.compile(r'data-id="([^"]+)"')
    theirs = set(ids.findall(staff_page)) - set(ids.findall(page))
    assert len(theirs) == 1
    browsers(worker_a).get(f"/console/ledgers/visit_log/entries/{theirs.pop()}", status=404)


def test_the_population_ledger_lists_the_register(browsers, builtin_ledgers, staff,
                                                  make_person, id_number):  # fmt: skip
    number = id_number()
    person = make_person(name="赵大爷", id_number=number, phone="13900001234")
    b = browsers(staff)
    page = b.get("/console/ledgers/population")
    row = entries(page)[0]
    assert row[0] == "赵大爷" and number[:6] + "********" + number[-4:] in row
    assert number not in page and ">新增记录</a>" not in page and ">导入</a>" not in page
    assert f'href="/console/people/{person["id"]}"' in page
    assert sort_links(page) == {}
    assert "实有人口台账按登记时间倒序排列" in b.get("/console/ledgers/population?sort=updated_at",
                                                status=422)  # fmt: skip


def test_filters_and_column_sorting_change_the_rows(browsers, builtin_ledgers, worker_a,
                                                    worker_b, staff):  # fmt: skip
    add(worker_a, visit_date="2026-03-05", visited_name="甲", purpose="日常走访")
    add(worker_a, visit_date="2026-01-20", visited_name="乙", purpose="困难帮扶",
        situation="申请临时救助")  # fmt: skip
    add(worker_a, visit_date="2026-02-11", visited_name="丙", purpose="安全检查")
    add(worker_b, visit_date="2026-02-28", visited_name="丁", purpose="困难帮扶")
    b = browsers(staff)
    names = lambda url: [r[1] for r in entries(b.get(url))]  # noqa: E731
    url = "/console/ledgers/visit_log"
    # Newest first on the ledger's date by default.
    assert names(url) == ["甲", "丁", "丙", "乙"]
    assert names(f"{url}?data.purpose=困难帮扶") == ["丁", "乙"]
    assert names(f"{url}?data.purpose=困难帮扶&area=G1") == ["乙"]
    assert names(f"{url}?date_from=2026-02-01&date_to=2026-02-28") == ["丁", "丙"]
    assert names(f"{url}?q=临时救助") == ["乙"]
    page = b.get(f"{url}?area=G2")
    assert names(f"{url}?area=G2") == ["丁"] and 'value="G2" selected' in page
    # A bad filter is said on the page, not a crash.
    page = b.get(f"{url}?data.purpose=打麻将", status=422)
    assert "应为以下选项之一" in page and entries(page) == []

    # Clicking a header sorts by it; clicking it again reverses; filters stay.
    page = b.get(f"{url}?data.purpose=困难帮扶")
    links = sort_links(page)
    assert set(links) == {"走访日期", "被走访人", "走访地址", "走访事由", "走访人", "更新时间"}
    ascending = links["走访日期"]
    assert "sort=entry_date" in ascending and "data.purpose=" in ascending
    page = b.get(ascending)
    assert [r[1] for r in entries(page)] == ["乙", "丁"]
    assert 'aria-sort="ascending"' in page and "走访日期 ▲" in page
    assert [r[1] for r in entries(b.get(sort_links(page)["走访日期"]))] == ["丁", "乙"]
    page = b.get(url)
    newest_change = sort_links(page)["更新时间"]
    assert "sort=-updated_at" in newest_change
    assert names(newest_change) == ["丁", "丙", "乙", "甲"]
    assert names(sort_links(b.get(newest_change))["更新时间"]) == ["甲", "乙", "丙", "丁"]


def test_numbers_sort_as_numbers_and_empty_values_come_last(browsers, builtin_ledgers,
                                                            worker_a, staff):  # fmt: skip
    for count, address in ((10, "一号"), (9, "二号"), (None, "三号"), (2, "四号")):
        add(worker_a, "rental_housing", address=address, landlord_name="房东", tenant_count=count)
    b = browsers(staff)
    url = "/console/ledgers/rental_housing"
    page = b.get(f"{url}?sort=data.tenant_count")
    assert [r[0] for r in entries(page)] == ["四号", "二号", "一号", "三号"]
    reverse = b.get(sort_links(page)["租住人数"])
    assert [r[0] for r in entries(reverse)] == ["一号", "二号", "四号", "三号"]
    # Personal values are encrypted: no order to sort them by, so no header link either.
    assert "房东电话" not in sort_links(page) and "租住人数" in sort_links(page)
    b.get(f"{url}?sort=data.landlord_phone", status=422)
    # The API lists in the same orders, a page at a time.
    api = entry_url("rental_housing")
    r = staff.get(api, query_string={"sort": "-data.tenant_count", "limit": 2})
    assert [e["data"]["address"] for e in r.get_json()["items"]] == ["一号", "二号"]
    cursor = r.get_json()["next_cursor"]
    r = staff.get(api, query_string={"sort": "-data.tenant_count", "limit": 2, "cursor": cursor})
    assert [e["data"]["address"] for e in r.get_json()["items"]] == ["四号", "三号"]
    assert r.get_json()["next_cursor"] is None
    r = staff.get(api, query_string={"sort": "data.landlord_phone"})
    assert r.status_code == 422 and "sort" in r.get_json()["error"]["details"]["fields"]


@pytest.mark.parametrize("sort", [None, "data.address", "-data.visit_date", "updated_at"])
def test_pages_of_25_follow_the_order_to_the_end(browsers, builtin_ledgers, worker_a, staff, sort):
    made = set()
    for i in range(31):
        # Few distinct dates and addresses (some empty): ties must not lose or repeat a row.
        address = f"{i % 4:02d}号" if i % 3 else None
        made.add(add(worker_a, visit_date=f"2026-0{1 + i % 3}-01", visited_name=f"居民{i:02d}",
                     address=address)["id"])  # fmt: skip
    b = browsers(staff)
    url = "/console/ledgers/visit_log" + (f"?sort={sort}" if sort else "")
    first = b.get(url)
    assert len(entries(first)) == 25
    second = b.get(next_page(first))
    assert len(entries(second)) == 6 and next_page(second) is None and "第一页" in second
    seen = [r for page in (first, second) for r in re.findall(r'data-id="([^"]+)"', page)]
    assert len(seen) == 31 and set(seen) == made
    rows = entries(first) + entries(second)
    if sort == "data.address":
        addresses = [r[2] for r in rows]
        assert addresses == sorted(a for a in addresses if a != "—") + ["—"] * 11
    if sort == "-data.visit_date":
        dates = [r[0] for r in rows]
        assert dates == sorted(dates, reverse=True)
    # A page's link to the next keeps the order: another order's cursor is refused.
    if sort:
        other = next_page(first).replace(f"sort={sort}", "sort=created_at")
        assert "分页游标无效" in b.get(other, status=422)


def test_a_new_entry_through_the_generated_form(app, browsers, builtin_ledgers, staff):
    b = browsers(staff)
    form = b.get("/console/ledgers/visit_log/new")
    # One input per field, by type, under the field's label; required ones marked.
    assert '<label for="f-visit_date">走访日期 <span class="req"' in form
    assert re.search(r'<input type="date" id="f-visit_date" name="f.visit_date" value="" '
                     r'required', form)  # fmt: skip
    assert re.search(r'<select id="f-purpose" name="f.purpose" required', form)
    assert '<option value="困难帮扶" >困难帮扶</option>' in form
    assert re.search(r'<textarea id="f-situation" name="f.situation" rows="3" required', form)
    assert re.search(r'<input type="file" id="f-photos" name="f.photos" multiple accept="image/',
                     form)  # fmt: skip
    assert '<label for="f-follow_up">后续跟进</label>' in form
    assert re.search(r'<option value="G1" >宝石第一网格</option>\s*<option value="G2" ', form)

    # Everything missing is said at once, the grid included.
    r = b.post("/console/ledgers/visit_log/new", {"f.visited_name": "王芳"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert re.findall(r'<p class="error" id="err-(\w+)">', page) == [
        "area", "visit_date", "purpose", "situation", "visitor"]  # fmt: skip
    assert '<p class="error" id="err-area">请选择所属网格</p>' in page

    typed = {"area": "G2", "f.visit_date": "2026-11-05", "f.visited_name": "王芳",
             "f.purpose": "困难帮扶", "f.situation": "", "f.visitor": "李网格"}  # fmt: skip
    r = b.post("/console/ledgers/visit_log/new", typed)
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    # The error sits under its input; what was typed is still there.
    field = page.split('data-key="situation"')[1].split('<div class="field')[0]
    assert 'aria-invalid="true"' in field
    assert '<p class="error" id="err-situation">必填</p>' in field
    assert 'name="f.visited_name" value="王芳"' in page
    assert '<option value="困难帮扶" selected>' in page and '<option value="G2" selected>' in page
    assert 'id="err-visited_name"' not in page

    photo = (io.BytesIO(make_png(seed=7)), "a.png")
    done = {**typed, "f.situation": "申请临时救助", "f.photos": photo}
    r = b.post("/console/ledgers/visit_log/new", done, content_type="multipart/form-data")
    assert r.status_code == 302 and r.headers["Location"] == "/console/ledgers/visit_log"
    page = b.get("/console/ledgers/visit_log")
    assert "已新增一条记录" in page and entries(page)[0][:6] == [
        "2026-11-05", "王芳", "—", "困难帮扶", "李网格", "宝石第二网格"]  # fmt: skip
    item = staff.get(entry_url("visit_log")).get_json()["items"][0]
    assert item["area"] == "G2" and item["data"]["situation"] == "申请临时救助"
    assert len(item["data"]["photos"]) == 1
    # The photo opens for whoever may read the entry.
    edit = b.get(f"/console/ledgers/visit_log/entries/{item['id']}")
    photo_url = f"/console/files/{item['data']['photos'][0]}"
    assert photo_url in edit and b.client.get(photo_url).status_code == 200


def test_a_resident_is_linked_by_id_number_and_fills_the_name(browsers, builtin_ledgers, staff,
                                                              make_person, id_number):  # fmt: skip
    number = id_number()
    person = make_person(name="赵大爷", id_number=number, phone="13900001234")
    b = browsers(staff)
    form = b.get("/console/ledgers/key_groups/new")
    assert 'placeholder="填写居民的身份证号以关联"' in form
    assert '<input type="checkbox" name="f.categories" value="独居老人"' in form
    r = b.post("/console/ledgers/key_groups/new", {"area": "G1", "f.person": id_number(),
                                                   "f.categories": ["低保"]})  # fmt: skip
    assert r.status_code == 422
    assert "没有找到该身份证号的居民" in r.get_data(as_text=True)
    body = {"area": "G1", "f.person": number, "f.categories": ["独居老人", "低保"]}
    assert b.post("/console/ledgers/key_groups/new", body).status_code == 302
    item = staff.get(entry_url("key_groups")).get_json()["items"][0]
    assert item["data"]["person"] == person["id"] and item["data"]["name"] == "赵大爷"
    assert item["data"]["categories"] == ["独居老人", "低保"]
    assert entries(b.get("/console/ledgers/key_groups"))[0][:2] == [
        "赵大爷", number[:6] + "********" + number[-4:]]  # fmt: skip
    # The edit form never holds the number in full; left blank, it stays as it is.
    edit = b.get(f"/console/ledgers/key_groups/entries/{item['id']}")
    assert number not in edit and "已关联：赵大爷" in edit
    r = b.post(f"/console/ledgers/key_groups/entries/{item['id']}",
               {"version": "1", "area": "G1", "f.person": "", "f.name": "赵大爷",
                "f.id_number": "", "f.phone": "", "f.categories": ["独居老人"]})  # fmt: skip
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    after = staff.get(entry_url("key_groups", item["id"])).get_json()
    assert after["data"]["categories"] == ["独居老人"] and after["data"]["person"] == person["id"]
    assert after["data"]["id_number"] == item["data"]["id_number"] and after["version"] == 2


def test_an_edit_with_a_stale_version_shows_the_conflict(browsers, builtin_ledgers, staff,
                                                         worker_a):  # fmt: skip
    made = add(worker_a, visited_name="王芳")
    url = f"/console/ledgers/visit_log/entries/{made['id']}"
    b = browsers(staff)
    form = b.get(url)
    assert '<input type="hidden" name="version" value="1">' in form
    assert 'name="f.visited_name" value="王芳"' in form and "保存修改" in form
    # Meanwhile the grid worker changes it on the phone.
    r = worker_a.patch(entry_url("visit_log", made["id"]), json={"data": {"visitor": "赵网格"}},
                       headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200
    mine = {"version": "1", "area": "G1", "f.visit_date": "2026-11-03", "f.visited_name": "王芳芳",
            "f.purpose": "日常走访", "f.situation": "身体良好", "f.visitor": "李网格"}  # fmt: skip
    r = b.post(url, mine)
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "这条记录已被其他人修改，您的修改未保存" in page
    assert 'name="f.visited_name" value="王芳芳"' in page
    assert staff.get(entry_url("visit_log", made["id"])).get_json()["data"]["visitor"] == "赵网格"
    # Reopened, it carries the new version and saves.
    assert '<input type="hidden" name="version" value="2">' in b.get(url)
    r = b.post(url, {**mine, "version": "2"})
    assert r.status_code == 302
    assert "已保存修改" in b.get("/console/ledgers/visit_log")
    saved = staff.get(entry_url("visit_log", made["id"])).get_json()
    assert saved["data"]["visited_name"] == "王芳芳" and saved["version"] == 3
    # Deleting asks first (data-confirm) and is for those who may.
    assert 'data-confirm="确定删除这条记录吗？删除后不能恢复。"' in b.get(url)
    worker = browsers(worker_a)
    assert "删除记录" not in worker.get(url)
    assert worker.post(f"{url}/delete", {"version": "3"}).status_code == 403
    r = b.post(f"{url}/delete", {"version": "3"})
    assert r.status_code == 302
    assert staff.get(entry_url("visit_log", made["id"])).status_code == 404


def test_an_export_starts_shows_progress_and_downloads(browsers, builtin_ledgers, worker_a,
                                                       worker_b, staff, make_user):  # fmt: skip
    add(worker_a, visit_date="2026-01-20", visited_name="王芳", purpose="困难帮扶")
    add(worker_b, visit_date="2026-02-11", visited_name="张伟", purpose="困难帮扶")
    add(worker_a, visit_date="2026-03-05", visited_name="李强", purpose="日常走访")
    b = browsers(staff)
    list_page = b.get("/console/ledgers/visit_log?data.purpose=困难帮扶&area=C1")
    link = htmllib.unescape(re.search(r'href="([^"]+)">导出</a>', list_page).group(1))
    page = b.get(link)
    assert '<label for="export-format">导出格式</label>' in page
    assert '<option value="xlsx">' in page and '<option value="pdf">' in page
    assert 'id="export-start">开始导出</button>' in page and 'id="job-progress"' in page
    assert '<input type="hidden" name="data.purpose" value="困难帮扶">' in page
    assert "走访事由：困难帮扶" in page and "网格：宝石社区" in page

    r = b.post("/console/ledgers/visit_log/exports",
               {"format": "xlsx", "data.purpose": "困难帮扶"}, headers=JSON)  # fmt: skip
    assert r.status_code == 202, r.get_data(as_text=True)
    started = r.get_json()
    assert started["url"] == f"/console/jobs/{started['id']}"
    job = poll(b, started["url"])
    assert job["status"] == "done" and job["percent"] == 100 and job["rows"] == 2
    assert job["message"] == "导出完成，共 2 条记录"
    assert job["download_url"] == f"/console/jobs/{started['id']}/download"
    r = b.client.get(job["download_url"])
    assert r.status_code == 200 and r.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in r.headers["Content-Disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(r.data)).active
    header = [c.value for c in ws[3]]
    assert header[:5] == ["序号", "所属网格", "走访日期", "走访对象", "被走访人"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    assert len(rows) == 2
    assert rows[0][1:5] == ["宝石第一网格", datetime(2026, 1, 20), None, "王芳"]
    assert rows[0][header.index("走访事由")] == "困难帮扶"
    assert {r[4] for r in rows} == {"王芳", "张伟"}

    # Without scripts: the form posts, then the job's page shows progress and the link.
    r = b.post("/console/ledgers/visit_log/exports", {"format": "csv"})
    assert r.status_code == 302
    job_url = r.headers["Location"]
    assert poll(b, job_url)["status"] == "done"
    page = b.get(job_url)
    assert '<progress id="job-progress" max="100" value="100">' in page
    assert "导出完成，共 3 条记录" in page
    assert 'id="job-download"' in page and ">下载文件</a>" in page
    assert "http-equiv" not in page  # finished: no more reloading
    # Only the job's owner sees it or its file.
    other = browsers(make_user("community_staff", "C1"))
    other.get(job_url, status=404)
    other.get(f"{job_url}/download", status=404)
    # A bad format is a Chinese error for the page's script.
    r = b.post("/console/ledgers/visit_log/exports", {"format": "doc"}, headers=JSON)
    assert r.status_code == 422 and "格式应为" in str(r.get_json()["error"])


def test_a_grid_worker_cannot_export(browsers, builtin_ledgers, worker_a):
    add(worker_a)
    b = browsers(worker_a)
    assert ">导出</a>" not in b.get("/console/ledgers/visit_log")
    b.get("/console/ledgers/visit_log/export", status=403)
    r = b.post("/console/ledgers/visit_log/exports", {"format": "xlsx"}, headers=JSON)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "auth.forbidden"
    assert b.post("/console/ledgers/visit_log/exports", {"format": "xlsx"}).status_code == 403
    b.get("/console/ledgers/visit_log/import", status=403)


VISIT_HEADER = ["所属网格", "走访日期", "被走访人", "走访事由", "走访情况", "走访人"]


def test_an_import_reports_the_bad_rows(browsers, builtin_ledgers, staff):
    sheet = xlsx([VISIT_HEADER,
                  ["宝石第一网格", datetime(2026, 11, 3), "王芳", "日常走访", "身体良好", "李网格"],
                  ["G2", "2026-11-04", "张伟", "打麻将", "邻里矛盾", "李网格"]],
                 title="宝石社区走访记录台账")  # fmt: skip
    b = browsers(staff)
    form = b.get("/console/ledgers/visit_log/import")
    assert 'name="mode" value="valid_rows"' in form and "只导入无误的行" in form
    assert '<input type="file" id="import-file" name="file" required' in form
    r = b.post("/console/ledgers/visit_log/import",
               {"file": (io.BytesIO(sheet), "走访.xlsx"), "mode": "valid_rows"},
               content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 302
    job_url = r.headers["Location"]
    job = poll(b, job_url)
    assert job["status"] == "done" and job["message"] == "导入完成：已导入 1 行，1 行有误未导入"
    page = b.get(job_url)
    bad = Tables(page).tables["import-errors"][1:]
    assert len(bad) == 1 and bad[0][:2] == ["5", "走访事由"]
    assert bad[0][2].startswith("应为以下选项之一：日常走访、政策宣传")
    assert re.search(r'id="count-imported">1<', page) and re.search(r'id="count-rejected">1<', page)
    assert [r[1] for r in entries(b.get("/console/ledgers/visit_log"))] == ["王芳"]

    # All or nothing: the same mistakes fail the import, with the report and the reason.
    sheet2 = xlsx([VISIT_HEADER, ["G1", "2026-13-01", "赵六", "日常走访", "好", "李网格"]],
                  title="走访")  # fmt: skip
    r = b.post("/console/ledgers/visit_log/import", {"file": (io.BytesIO(sheet2), "b.xlsx")},
               content_type="multipart/form-data")  # fmt: skip
    job = poll(b, r.headers["Location"])
    assert job["status"] == "failed" and "未导入任何数据" in job["message"]
    page = b.get(r.headers["Location"])
    assert "未导入任何数据" in page
    assert Tables(page).tables["import-errors"][1][:2] == ["4", "走访日期"]

    # The same sheet again is refused on the form, with the choice to import it anyway.
    r = b.post("/console/ledgers/visit_log/import",
               {"file": (io.BytesIO(sheet), "走访.xlsx"), "mode": "valid_rows"},
               content_type="multipart/form-data")  # fmt: skip
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and "该文件已经导入过" in page and 'name="force"' in page
    r = b.post("/console/ledgers/visit_log/import", {"mode": "valid_rows"},
               content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 422 and "请选择要上传的文件" in r.get_data(as_text=True)


def test_an_export_in_the_browser_follows_the_progress_bar_to_the_file(
    signed_in, builtin_ledgers, worker_a, staff, tmp_path
):
    from playwright.sync_api import expect

    add(worker_a, visited_name="王芳")
    page = signed_in(staff)
    page.get_by_role("link", name="台账", exact=True).click()
    page.get_by_role("link", name="走访记录台账").click()
    page.get_by_role("link", name="导出", exact=True).click()
    page.get_by_label("导出格式").select_option("xlsx")
    link = page.get_by_role("link", name="下载文件")
    expect(page.locator("#export-job")).to_be_hidden()
    page.get_by_role("button", name="开始导出").click()
    expect(link).to_be_visible(timeout=30_000)
    expect(page.locator("#job-progress")).to_have_attribute("value", "100")
    expect(page.locator("#job-status")).to_have_text("导出完成，共 1 条记录")
    # Still on the export page: the script did the work, the form can start another.
    assert page.url.endswith("/console/ledgers/visit_log/export")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = openpyxl.load_workbook(saved).active
    rows = [[cell for cell in row if cell is not None] for row in sheet.iter_rows(values_only=True)]
    header = next(row for row in rows if "走访日期" in row)
    assert header[:3] == ["序号", "所属网格", "走访日期"]
    assert any("王芳" in row for row in rows[rows.index(header) + 1 :])

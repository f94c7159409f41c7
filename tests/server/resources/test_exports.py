"""Ledger exports over HTTP: jobs, the paper-form xlsx, csv and pdf, masking, audit, scope."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime

import openpyxl
import pytest

from tests.server.resources.test_ledgers import entry_url, visit

LEDGERS = "/api/v1/ledgers"
EXPORTS = "/api/v1/exports"


def start(user, code="visit_log", **body):
    return user.post(f"{LEDGERS}/{code}/exports", json={"format": "xlsx", **body})


def wait(user, job_id, timeout=60, jobs=EXPORTS):
    """Poll like the web console does until the job ends."""
    deadline = time.monotonic() + timeout
    while True:
        r = user.get(f"{jobs}/{job_id}")
        assert r.status_code == 200, r.get_json()
        job = r.get_json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def export(user, code="visit_log", **body):
    r = start(user, code, **body)
    assert r.status_code == 202, r.get_json()
    assert set(r.get_json()) == {"id", "status"} and r.get_json()["status"] == "queued"
    job = wait(user, r.get_json()["id"])
    assert job["status"] == "done", job
    return job


def download(user, job) -> bytes:
    url = job["download_url"]
    assert url.startswith("http://localhost/api/v1/exports/")
    r = user.get(url.removeprefix("http://localhost"))
    assert r.status_code == 200, r.data[:200]
    return r.data


@pytest.fixture
def visits(builtin_ledgers, worker_a, worker_b, make_person, id_number):
    """Five visits in grid A (one linked to a resident) and one in grid B."""
    number = id_number()
    person = make_person(name="赵大爷", id_number=number, phone="13900001234")
    made = []
    for day, purpose, situation in [
        ("2026-03-05", "日常走访", "身体良好，独自居住"),
        ("2026-01-20", "困难帮扶", '=HYPERLINK("http://x")申请临时救助'),
        ("2026-02-11", "安全检查", "燃气管道老化，已提醒更换"),
        ("2026-02-28", "政策宣传", "讲解医保缴费政策"),
    ]:
        body = visit(worker_a, visit_date=day, purpose=purpose, situation=situation)
        made.append(worker_a.post(entry_url("visit_log"), json=body).get_json())
    linked = visit(worker_a, visit_date="2026-04-01", person=person["id"], visited_name=None)
    linked["data"].pop("visited_name")
    made.append(worker_a.post(entry_url("visit_log"), json=linked).get_json())
    made.append(worker_b.post(entry_url("visit_log"), json=visit(worker_b)).get_json())
    assert all("id" in e for e in made), made
    return {"entries": made, "person": person, "id_number": number}


def test_xlsx_reads_like_the_paper_form(staff, visits):
    job = export(staff)
    assert job["rows"] == 6 and job["progress"] == 1.0 and job["error"] is None
    assert job["format"] == "xlsx" and job["filename"].endswith(".xlsx")
    assert job["filename"].startswith("宝石社区走访记录台账_")
    data = download(staff, job)
    book = openpyxl.load_workbook(io.BytesIO(data))
    ws = book.active
    assert ws["A1"].value == "宝石社区走访记录台账"
    assert "A1:" in str(ws.merged_cells)
    assert ws["A2"].value == "制表单位：宝石社区"
    assert any(str(c.value).startswith("制表日期：") for c in ws[2] if c.value)
    headers = [c.value for c in ws[3]]
    assert headers[:5] == ["序号", "所属网格", "走访日期", "走访对象", "被走访人"]
    assert headers[-2:] == ["登记人", "登记时间"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=4)]
    assert len(rows) == 6
    # Oldest first, like a paper ledger; dates are real dates, choices their labels.
    assert [r[2] for r in rows] == sorted(r[2] for r in rows)
    assert isinstance(rows[0][2], datetime) and rows[0][2] == datetime(2026, 1, 20)
    assert ws.cell(row=4, column=3).number_format == "yyyy-mm-dd"
    assert rows[0][0] == 1 and rows[-1][0] == 6
    # Text that looks like a formula stays text.
    assert rows[0][headers.index("走访情况")].startswith("=HYPERLINK")
    assert ws.cell(row=4, column=headers.index("走访情况") + 1).data_type == "s"
    linked = next(r for r in rows if r[headers.index("走访对象")])
    assert linked[headers.index("走访对象")] == "赵大爷"  # the resident's name, not an id
    assert {r[1] for r in rows} == {"宝石第一网格", "宝石第二网格"}
    # Print setup: frozen header, A4 landscape, title rows repeated on each page.
    assert ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$1:$3"
    assert ws.column_dimensions["F"].width >= 12
    assert ws.cell(row=3, column=1).border.left.style == "thin"


def test_xlsx_rows_are_as_tall_as_their_wrapped_text(staff, worker_a, builtin_ledgers):
    long = "老人独自居住，身体状况良好，生活能够自理，已提醒注意用电用气安全；" * 3
    for text in ("一切正常", long, "第一行\n第二行\n第三行"):
        body = visit(worker_a, situation=text)
        assert worker_a.post(entry_url("visit_log"), json=body).status_code == 201
    ws = openpyxl.load_workbook(io.BytesIO(download(staff, export(staff)))).active
    heights = {ws.cell(row=r, column=8).value: ws.row_dimensions[r].height for r in (4, 5, 6)}
    # The short row is only as tall as its wrapped username in 登记人.
    assert heights["一切正常"] is None or heights["一切正常"] < 3 * 14
    assert heights[long] >= 4 * 14 and heights["第一行\n第二行\n第三行"] >= 3 * 14


def test_csv_has_a_bom_masks_personal_data_and_defuses_formulas(staff, visits):
    job = export(staff, "key_groups", format="csv")
    assert job["rows"] == 0  # an empty ledger is still a file with its header
    body = {
        "area": "G1",
        "data": {"person": visits["person"]["id"], "categories": ["独居老人", "低保"]},
    }
    assert staff.post(entry_url("key_groups"), json=body).status_code == 201
    data = download(staff, export(staff, "key_groups", format="csv"))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header, row = rows[0], rows[1]
    assert header[:4] == ["序号", "所属网格", "关爱对象", "姓名"]
    number = visits["id_number"]
    assert row[header.index("公民身份号码")] == number[:6] + "********" + number[-4:]
    assert row[header.index("联系电话")] == "139****1234"
    assert row[header.index("人群类别")] == "独居老人、低保"

    revealed = download(staff, export(staff, "key_groups", format="csv", reveal=True))
    assert number in revealed.decode("utf-8-sig")
    visits_csv = download(staff, export(staff, format="csv")).decode("utf-8-sig")
    assert "'=HYPERLINK" in visits_csv


def test_exports_are_audited_with_filters_but_no_personal_data(app, staff, admin, visits):
    number = visits["id_number"]
    body = {"area": "G1", "data": {"person": visits["person"]["id"], "categories": ["独居老人"]}}
    assert staff.post(entry_url("key_groups"), json=body).status_code == 201
    job = export(staff, "key_groups", format="csv", reveal=True, filters={"id_number": number})
    assert job["rows"] == 1
    download(staff, job)
    r = admin.get("/api/v1/audit", query_string={"action": "ledger.export"})
    (entry,) = r.get_json()["items"]
    assert entry["actor"] == staff.username and entry["object_id"] == job["id"]
    assert entry["details"]["reveal"] is True and entry["details"]["ledger"] == "key_groups"
    assert entry["details"]["filters"] == {"id_number": "***"}
    r = admin.get("/api/v1/audit", query_string={"action": "ledger.export_download"})
    assert [e["object_id"] for e in r.get_json()["items"]] == [job["id"]]
    # Neither the audit log nor the job row holds the number in clear.
    from sqlalchemy import text

    with app.extensions["wangge_engine"].connect() as conn:
        stored = str(conn.execute(text("SELECT params FROM jobs")).all())
        logged = str(conn.execute(text("SELECT details FROM audit_log")).all())
    assert number not in stored and number not in logged


def test_filters_fields_and_labels(staff, visits):
    job = export(
        staff,
        format="csv",
        filters={
            "area": "G1",
            "date_from": "2026-02-01",
            "date_to": "2026-03-31",
            "purpose": "安全检查",
        },
    )
    rows = list(csv.reader(io.StringIO(download(staff, job).decode("utf-8-sig"))))
    assert job["rows"] == 1 and len(rows) == 2 and "燃气管道老化" in ",".join(rows[1])

    job = export(
        staff, format="csv", fields=["visit_date", "purpose"], labels=False, filters={"q": "医保"}
    )
    rows = list(csv.reader(io.StringIO(download(staff, job).decode("utf-8-sig"))))
    assert rows == [
        ["seq", "area", "visit_date", "purpose", "created_by", "created_at"],
        ["1", "宝石第一网格", "2026-02-28", "政策宣传", rows[1][4], rows[1][5]],
    ]

    for body, field in [
        ({"format": "docx"}, "format"),
        ({"fields": ["nope"]}, "fields"),
        ({"fields": "visit_date"}, "fields"),
        ({"filters": {"date_from": "2026/01/01"}}, "filters"),
        ({"filters": {"photos": "x"}}, "photos"),
        ({"filters": {"purpose": ["a"]}}, "filters"),
    ]:
        r = start(staff, **body)
        assert r.status_code == 422, (body, r.get_json())
        assert field in str(r.get_json()["error"]["details"]), r.get_json()
    assert start(staff, "no_such_ledger").status_code == 404
    r = staff.post(f"{LEDGERS}/visit_log/exports", data="{not json",
                   headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and r.get_json()["error"]["message"]
    r = staff.client.post(f"{LEDGERS}/visit_log/exports", json={"format": "csv"})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "auth.required"
    assert staff.client.get(f"{EXPORTS}/whatever").status_code == 401


def test_only_the_exporters_areas_and_jobs(staff, admin, worker_a, make_user, tree, visits):
    assert start(worker_a).status_code == 403  # grid workers do not export
    other = make_user("community_staff", tree["other_community"])
    job = export(other)
    assert job["rows"] == 0
    # An area outside one's scope exports nothing rather than someone else's grid.
    assert export(other, filters={"area": "G1"})["rows"] == 0
    mine = export(staff)
    assert other.get(f"{EXPORTS}/{mine['id']}").status_code == 404
    assert other.get(f"{EXPORTS}/{mine['id']}/download").status_code == 404
    assert admin.get(f"{EXPORTS}/{mine['id']}").status_code == 200
    assert staff.get(f"{EXPORTS}/not-a-job").status_code == 404
    everything = export(admin)
    assert everything["rows"] == 6 and everything["filename"].startswith("走访记录台账_")


def test_pdf_is_a_printable_cjk_document(staff, visits):
    job = export(staff, format="pdf")
    data = download(staff, job)
    assert data.startswith(b"%PDF-") and job["rows"] == 6
    assert b"/FontFile" in data and b"MediaBox [0 0 841.89 595.28]" in data


def test_the_population_ledger_exports_the_register(staff, visits):
    job = export(staff, "population", format="csv")
    rows = list(csv.reader(io.StringIO(download(staff, job).decode("utf-8-sig"))))
    assert job["rows"] == 1 and rows[1][rows[0].index("姓名")] == "赵大爷"
    r = start(staff, "population", filters={"date_from": "2026-01-01"})
    assert r.status_code == 422


def test_old_template_fields_can_be_exported(admin, staff, builtin_ledgers):
    fields = [
        {"key": "when", "label": "日期", "type": "date", "required": True},
        {"key": "note", "label": "说明", "type": "text"},
    ]
    assert (
        admin.post(LEDGERS, json={"code": "t1", "name": "测试台账", "fields": fields}).status_code
        == 201
    )
    assert (
        staff.post(
            entry_url("t1"), json={"area": "G1", "data": {"when": "2026-05-01", "note": "旧"}}
        ).status_code
        == 201
    )
    r = admin.patch(f"{LEDGERS}/t1", json={"fields": fields[:1]}, headers={"If-Match": "1"})
    assert r.status_code == 200
    job = export(staff, "t1", format="csv", fields=["when", "note"])
    rows = list(csv.reader(io.StringIO(download(staff, job).decode("utf-8-sig"))))
    assert rows[0][2:4] == ["日期", "说明"] and rows[1][2:4] == ["2026-05-01", "旧"]


def test_on_object_storage_the_download_url_is_presigned(s3_app, staff, visits):
    import requests

    from tests.server.resources.test_files_s3 import on

    via_s3 = on(staff, s3_app)
    r = via_s3.post(f"{LEDGERS}/visit_log/exports", json={"format": "csv"})
    job = wait(via_s3, r.get_json()["id"])
    assert job["status"] == "done", job
    url = job["download_url"]
    assert url.startswith("http://127.0.0.1:") and "X-Amz-Signature=" in url
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content.startswith(b"\xef\xbb\xbf")
    assert "attachment" in fetched.headers["Content-Disposition"]
    r = via_s3.get(f"{EXPORTS}/{job['id']}/download")
    assert r.status_code == 302 and "X-Amz-Signature=" in r.headers["Location"]

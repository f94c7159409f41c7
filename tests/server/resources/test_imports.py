"""Ledger imports over HTTP: a clerk's spreadsheet, header variants, safe corrections, links
to residents, a row-by-row report, and all-or-nothing versus valid-rows."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime

import xlsxwriter

from tests.server.resources.test_exports import export, wait
from tests.server.resources.test_ledgers import entry_url, visit

LEDGERS = "/api/v1/ledgers"
IMPORTS = "/api/v1/imports"


def xlsx(rows, *, title="宝石社区出租房屋台账") -> bytes:
    """A sheet as offices keep them: merged title, 制表单位 line, then the table."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = book.add_worksheet("出租房屋")
    ws.merge_range(0, 0, 0, len(rows[0]) - 1, title)
    ws.write_string(1, 0, "制表单位：宝石社区    制表日期：2026年11月20日")
    when = book.add_format({"num_format": "yyyy/m/d"})
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if isinstance(value, datetime):
                ws.write_datetime(r, c, value, when)
            elif value is not None:
                ws.write(r, c, value) if not isinstance(value, str) else ws.write_string(
                    r, c, value
                )
    book.close()
    return out.getvalue()


def upload(user, code, data: bytes, name="台账.xlsx", **query):
    return user.post(f"{LEDGERS}/{code}/imports", query_string=query,
                     data={"file": (io.BytesIO(data), name)},
                     content_type="multipart/form-data")  # fmt: skip


def run_import(user, code, data, **query):
    r = upload(user, code, data, **query)
    assert r.status_code == 202, r.get_json()
    return wait(user, r.get_json()["id"], jobs=IMPORTS)


HEADER = ["序号", "所属网格", "房屋地址", "房东姓名", "身份证号码", "联系电话", "租住人数",
          "出租用途", "租期开始", "租期结束", "安全检查", "备注（选填）"]  # fmt: skip


def rental_rows(landlord_15: str):
    return [
        HEADER,
        [1, "宝石第一网格", "宝石一路8号 ", "赵大爷", landlord_15, "", "３", "居住",
         "2024.3.5", datetime(2025, 3, 4), "合格", None],
        [2, "G1", "宝石二路3号", "钱房东", "", "+86 139-0000-5678", 2, "经营",
         "2024年6月1日", "2025-05-31", "存在隐患", "消防通道堆物"],
        [3, "宝石第二网格", "宝石三路1号", "孙房东", "", "", "两人", "居住",
         "2024-13-01", None, "合格", None],
        [4, "黄龙第一网格", "黄龙路5号", "李房东", "", "", 1, "居住", None, None, "未检查", None],
    ]  # fmt: skip


def registered(make_person, id_number):
    """赵大爷 is in the register with an 18-digit number; the clerk's sheet has the old 15."""
    from datetime import date

    number18 = id_number(birth=date(1949, 12, 31), region="110105", seq=0)
    make_person(name="赵大爷", id_number=number18, phone="13900001234",
                current_address="宝石一路8号")  # fmt: skip
    return number18, number18[:6] + number18[8:17]


def test_all_or_nothing_rejects_the_file_and_reports_every_row(
    staff,
    builtin_ledgers,
    make_person,
    id_number,
):
    _, old15 = registered(make_person, id_number)
    job = run_import(staff, "rental_housing", xlsx(rental_rows(old15)))
    assert job["status"] == "failed", job
    assert job["error"]["code"] == "ledgers.import_rejected"
    report = job["report"]
    assert report["file"]["header_row"] == 3 and report["file"]["format"] == "xlsx"
    assert report["columns"]["mapped"]["身份证号码"] == "landlord_id_number"
    assert report["columns"]["mapped"]["联系电话"] == "landlord_phone"
    assert report["columns"]["area"] == "所属网格"
    assert report["total_rows"] == 4 and report["rejected"] == 2 and report["imported"] == 0
    errors = {e["row"]: e for e in report["errors"]}
    # Row 6 (Excel's numbering): not a number of people, and no 13th month.
    assert set(errors[6]["fields"]) == {"tenant_count", "contract_start"}
    assert errors[6]["labels"]["tenant_count"] == "租住人数"
    # Row 7: a grid of another community.
    assert "area" in errors[7]["fields"]
    assert staff.get(entry_url("rental_housing")).get_json()["items"] == []


def test_valid_rows_imports_what_is_right_and_lists_each_correction(
    app,
    staff,
    builtin_ledgers,
    make_person,
    id_number,
):
    number18, old15 = registered(make_person, id_number)
    sheet = xlsx(rental_rows(old15))
    job = run_import(staff, "rental_housing", sheet, mode="valid_rows")
    assert job["status"] == "done", job
    report = job["report"]
    assert report["imported"] == 2 and report["rejected"] == 2 and job["rows"] == 2
    assert report["linked"] == 1
    notes = {(c["row"], c["field"]): c["notes"] for c in report["corrections"]}
    assert "15位身份证号已升级为18位" in notes[(4, "landlord_id_number")]
    assert any("2024-03-05" in n for n in notes[(4, "contract_start")])
    assert notes[(4, "tenant_count")] and notes[(4, "address")]
    assert "已去除国际区号 +86" in notes[(5, "landlord_phone")]

    items = staff.get(entry_url("rental_housing")).get_json()["items"]
    by_address = {e["data"]["address"]: e for e in items}
    first = by_address["宝石一路8号"]["data"]
    # Linked to the registered landlord by ID number, stored as the 18-digit number.
    assert first["landlord"] and first["landlord_phone"] == "139****1234"
    assert first["landlord_id_number"] == number18[:6] + "********" + number18[-4:]
    assert first["tenant_count"] == 3 and first["contract_end"] == "2025-03-04"
    second = by_address["宝石二路3号"]["data"]
    assert second["use"] == "经营" and second["contract_start"] == "2024-06-01"
    assert second["landlord_phone"] == "139****5678"
    assert {e["area"] for e in items} == {"G1"}

    from sqlalchemy import text

    with app.extensions["wangge_engine"].connect() as conn:
        logged = conn.execute(text("SELECT details FROM audit_log WHERE action = 'ledger.import'"))
        assert len(logged.all()) == 1
        stored = str(conn.execute(text("SELECT result, params FROM jobs")).all())
    assert number18 not in stored and old15 not in stored
    # The uploaded sheet (ID numbers in clear) is not kept once read.
    assert not app.extensions["wangge_blobs"].exists(hashlib.sha256(sheet).hexdigest())


def test_dry_run_checks_without_writing(staff, builtin_ledgers, make_person, id_number):
    _, old15 = registered(make_person, id_number)
    job = run_import(staff, "rental_housing", xlsx(rental_rows(old15)), mode="valid_rows",
                     dry_run="true")  # fmt: skip
    assert job["status"] == "done" and job["report"]["valid_rows"] == 2
    assert job["report"]["imported"] == 0 and job["report"]["dry_run"] is True
    assert staff.get(entry_url("rental_housing")).get_json()["items"] == []


def test_a_gbk_csv_without_a_grid_column_goes_to_the_chosen_grid(staff, builtin_ledgers):
    text = "走访时间,被走访人,走访事由,走访情况,走访人员\r\n" \
           "2026/11/3,王芳,日常走访,身体良好,李网格\r\n" \
           "2026/11/4,张伟,困难帮扶,申请临时救助,李网格\r\n"  # fmt: skip
    job = run_import(staff, "visit_log", text.encode("gb18030"), area="G2")
    assert job["status"] == "done", job
    assert job["report"]["file"]["format"] == "csv" and job["report"]["imported"] == 2
    assert job["report"]["columns"]["mapped"]["走访时间"] == "visit_date"
    items = staff.get(entry_url("visit_log")).get_json()["items"]
    assert {e["area"] for e in items} == {"G2"}
    assert {e["data"]["visit_date"] for e in items} == {"2026-11-03", "2026-11-04"}
    # Without the grid column or the area argument a row cannot be placed.
    job = run_import(staff, "visit_log", text.encode("utf-8-sig"))  # other bytes: not a repeat
    assert job["status"] == "failed" and job["report"]["errors"][0]["fields"]["area"]


def test_an_export_imports_back(staff, worker_a, builtin_ledgers):
    for day in ("2026-10-01", "2026-10-02"):
        body = visit(worker_a, visit_date=day, purpose="困难帮扶")
        assert worker_a.post(entry_url("visit_log"), json=body).status_code == 201
    job = export(staff)
    data = staff.get(job["download_url"].removeprefix("http://localhost")).data
    result = run_import(staff, "visit_log", data, name="导出.xlsx")
    assert result["status"] == "done", result
    assert result["report"]["imported"] == 2 and result["report"]["file"]["header_row"] == 3
    items = staff.get(entry_url("visit_log")).get_json()["items"]
    assert len(items) == 4 and {e["data"]["purpose"] for e in items} == {"困难帮扶"}


def test_bad_uploads_get_clear_errors(app, staff, worker_a, builtin_ledgers):
    assert upload(worker_a, "visit_log", b"x,y\r\n").status_code == 403
    r = staff.post(f"{LEDGERS}/visit_log/imports", data={}, content_type="multipart/form-data")
    assert r.status_code == 422
    assert upload(staff, "population", b"a,b\r\n").status_code == 409  # read-only register
    assert upload(staff, "nope", b"a,b\r\n").status_code == 404
    assert upload(staff, "visit_log", b"a,b\r\n", mode="some").status_code == 422
    assert upload(staff, "visit_log", b"a,b\r\n", area="G3").status_code == 422  # not theirs
    # A refused upload keeps nothing.
    assert not app.extensions["wangge_blobs"].exists(hashlib.sha256(b"a,b\r\n").hexdigest())
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600
    job = run_import(staff, "visit_log", old_excel, name="台账.xls")
    assert job["status"] == "failed" and job["error"]["code"] == "ledgers.invalid_import_file"
    assert "另存为" in job["error"]["message"]
    job = run_import(staff, "visit_log", b"PK\x03\x04broken zip", name="台账.xlsx")
    assert job["status"] == "failed" and job["error"]["code"] == "ledgers.invalid_import_file"
    job = run_import(staff, "visit_log", "甲,乙\r\n1,2\r\n".encode(), area="G1")
    assert job["status"] == "failed" and job["error"]["code"] == "ledgers.import_no_columns"


def test_an_oversized_sheet_is_refused_and_leaves_nothing(
    staff, builtin_ledgers, base_config, tmp_path
):
    from server import create_app
    from tests.server.resources.test_files import blob_files

    r = staff.client.post(f"{LEDGERS}/visit_log/imports", data={"file": (io.BytesIO(b"a,b"),
                          "x.csv")}, content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 401  # no token
    data_dir = tmp_path / "small"
    small = create_app({**base_config, "DATA_DIR": str(data_dir), "MAX_UPLOAD_MB": 1})
    try:
        import dataclasses

        limited = dataclasses.replace(staff, client=small.test_client())
        big = ("走访时间,被走访人\r\n" + "2026-11-03,王芳\r\n" * 80_000).encode()
        r = upload(limited, "visit_log", big, name="big.csv")
        assert r.status_code == 413 and r.get_json()["error"]["code"] == "files.too_large"
        assert list((data_dir / "tmp").iterdir()) == [] and blob_files(data_dir) == []
    finally:
        small.extensions["wangge_engine"].dispose()


def test_the_same_sheet_twice_is_refused_unless_forced(app, staff, builtin_ledgers):
    header = "走访时间,被走访人,走访事由,走访情况,走访人员\r\n"
    sheet = (header + "2026/11/3,王芳,日常走访,身体良好,李网格\r\n").encode("gb18030")
    sha256 = hashlib.sha256(sheet).hexdigest()
    assert run_import(staff, "visit_log", sheet, area="G1", dry_run="true")["status"] == "done"
    first = run_import(staff, "visit_log", sheet, area="G1")
    assert first["status"] == "done" and first["report"]["imported"] == 1
    r = upload(staff, "visit_log", sheet, area="G1")
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "ledgers.import_repeated" and err["details"]["job"] == first["id"]
    assert err["details"]["imported"] == 1
    # Refused before any job took it: the sheet is not kept.
    assert not app.extensions["wangge_blobs"].exists(sha256)
    again = run_import(staff, "visit_log", sheet, area="G1", force="true")
    assert again["status"] == "done" and again["report"]["imported"] == 1
    assert len(staff.get(entry_url("visit_log")).get_json()["items"]) == 2

"""Reading real xlsx and CSV files as clerks produce them, and rejecting broken ones."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter

from ledger.ledgers.imports import reader
from ledger.ledgers.imports.headers import match_headers
from ledger.ledgers.imports.reader import ImportFileInvalid, Table, read_table

ID = "11010519491231002X"
FIELDS = [
    {"key": "name", "label": "姓名", "type": "text", "required": True},
    {"key": "id_number", "label": "身份证号", "type": "id_number", "required": True},
    {"key": "visit_date", "label": "走访日期", "type": "date", "required": True},
    {"key": "phone", "label": "联系电话", "type": "phone", "required": True},
    {"key": "note", "label": "备注", "type": "longtext", "required": False},
]
HEADERS = ["序号", "姓名", "公民身份号码", "走访日期", "备注"]


def ledger_xlsx(path: Path, *, data_rows: int | None = None, hidden_first: bool = False) -> Path:
    """A ledger as exported from Excel: merged title, a 制表单位 line, then the table."""
    book = xlsxwriter.Workbook(str(path))
    if hidden_first:
        book.add_worksheet("说明").hide()
    sheet = book.add_worksheet("走访记录")
    if hidden_first:
        sheet.activate()
    title = book.add_format({"bold": True, "align": "center"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    text = book.add_format({"num_format": "@"})
    sheet.merge_range("A1:E1", "XX社区走访记录台账", title)
    sheet.write_string("A2", "制表单位：XX社区  制表日期：2026-11-24")
    sheet.write_row("A3", HEADERS)
    if data_rows is None:
        sheet.write_row("A4", [1, "王芳"])
        sheet.write_string("C4", ID, text)
        sheet.write_datetime("D4", datetime(2024, 3, 5), day)
        sheet.write_string("E4", "独居老人")
        # Row 5 is left empty, as clerks do between groups of rows.
        sheet.write_row("A6", [2, "李四", "110105491231002", "2024.3.5"])
        # Formatted but empty cells below the table: Excel writes them, they hold nothing.
        for row in range(6, 20):
            sheet.write_blank(row, 1, None, day)
    else:
        for i in range(data_rows):
            sheet.write_row(3 + i, 0, [i + 1, f"居民{i}"])
    book.close()
    return path


def rows_of(table: Table) -> list[tuple[int, list]]:
    with table:
        return list(table.rows)


# ----------------------------------------------------------------- xlsx


def test_xlsx_header_found_below_title_rows(tmp_path):
    table = read_table(ledger_xlsx(tmp_path / "ledger.xlsx"))
    assert table.format == "xlsx"
    assert table.sheet == "走访记录"
    assert table.header_row == 3
    assert table.headers == HEADERS
    rows = rows_of(table)
    # Spreadsheet row numbers (what the clerk sees), the empty row 5 and the formatted
    # empty rows below the table skipped.
    assert [number for number, _ in rows] == [4, 6]
    assert rows[0][1] == [1, "王芳", ID, datetime(2024, 3, 5), "独居老人"]
    assert rows[1][1] == [2, "李四", "110105491231002", "2024.3.5", None]  # padded to width


def test_xlsx_headers_map_to_fields(tmp_path):
    table = read_table(ledger_xlsx(tmp_path / "ledger.xlsx"), fields=FIELDS)
    match = match_headers(table.headers, FIELDS)
    table.close()
    assert match.columns == {1: "name", 2: "id_number", 3: "visit_date", 4: "note"}
    assert match.missing_required == ["联系电话"]
    assert match.ignored == []


def test_xlsx_rows_are_streamed(tmp_path):
    table = read_table(ledger_xlsx(tmp_path / "ledger.xlsx"))
    assert iter(table.rows) is table.rows  # an iterator, not a list held in memory
    assert next(table.rows)[0] == 4
    table.close()  # abandoning the stream early releases the file
    table.close()  # and closing twice is harmless


def test_xlsx_first_visible_sheet_is_read(tmp_path):
    table = read_table(ledger_xlsx(tmp_path / "ledger.xlsx", hidden_first=True))
    assert table.sheet == "走访记录"
    assert table.header_row == 3
    table.close()


def test_file_name_does_not_matter(tmp_path):
    path = ledger_xlsx(tmp_path / "ledger.xlsx").rename(tmp_path / "upload.bin")
    assert read_table(path).format == "xlsx"


def test_too_many_rows(tmp_path):
    table = read_table(ledger_xlsx(tmp_path / "big.xlsx", data_rows=6), max_rows=5)
    with pytest.raises(ImportFileInvalid) as exc, table:
        list(table.rows)
    assert "5" in exc.value.message
    assert exc.value.details == {"reason": "too_many_rows", "max_rows": 5}
    # Exactly the limit is fine.
    assert len(rows_of(read_table(tmp_path / "big.xlsx", max_rows=6))) == 6


def test_legacy_xls_is_refused_with_advice(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(ImportFileInvalid) as exc:
        read_table(path)
    assert "请另存为 .xlsx 或 .csv 后再导入" in exc.value.message
    assert exc.value.code == "ledgers.invalid_import_file"


def test_corrupt_zip_is_refused(tmp_path):
    good = ledger_xlsx(tmp_path / "ledger.xlsx").read_bytes()
    path = tmp_path / "broken.xlsx"
    path.write_bytes(good[: len(good) // 2])  # an interrupted upload
    with pytest.raises(ImportFileInvalid) as exc:
        read_table(path)
    assert exc.value.details["reason"] == "corrupt"


def test_zip_that_is_not_a_workbook_is_refused(tmp_path):
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("photo.txt", "not a workbook")
    with pytest.raises(ImportFileInvalid) as exc:
        read_table(path)
    assert exc.value.details["reason"] == "corrupt"


def test_corrupt_sheet_is_reported_while_reading(tmp_path):
    source = ledger_xlsx(tmp_path / "ledger.xlsx", data_rows=50)
    path = tmp_path / "truncated.xlsx"
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3]  # cut off mid-row
            dst.writestr(item, data)
    with pytest.raises(ImportFileInvalid) as exc:
        table = read_table(path)
        rows_of(table)
    assert exc.value.details["reason"] == "corrupt"


def test_zip_bomb_is_refused(tmp_path, monkeypatch):
    # The real limit is hundreds of megabytes; a small one keeps the test fast.
    monkeypatch.setattr(reader, "_MAX_MEMBER_BYTES", 10_000)
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 20_000)
    with pytest.raises(ImportFileInvalid) as exc:
        read_table(path)
    assert exc.value.details["reason"] == "too_large"


# ----------------------------------------------------------------- csv


def csv_text(delimiter: str = ",") -> str:
    lines = [
        ["XX社区出租房屋台账", "", "", ""],
        ["制表单位：XX社区", "", "制表日期：2026-11-24", ""],
        ["房东", "承租人", "身份证号", "备注"],
        ["张三", "李四", ID, "合同到期，需续签"],
        ["", "", "", ""],
        ["王五", "赵六", "110105491231002", ""],
        ["", "", "", ""],
        ["", "", "", ""],
    ]

    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value or "，" in value else value

    return "\r\n".join(delimiter.join(cell(v) for v in line) for line in lines) + "\r\n"


def test_csv_utf8_with_bom(tmp_path):
    path = tmp_path / "rent.csv"
    path.write_bytes(csv_text().encode("utf-8-sig"))
    table = read_table(path)
    assert (table.format, table.header_row) == ("csv", 3)
    assert table.headers == ["房东", "承租人", "身份证号", "备注"]
    assert rows_of(table) == [
        (4, ["张三", "李四", ID, "合同到期，需续签"]),
        (6, ["王五", "赵六", "110105491231002", None]),
    ]


def test_csv_gbk_from_chinese_excel(tmp_path):
    path = tmp_path / "rent.csv"
    path.write_bytes(csv_text().encode("gbk"))
    table = read_table(path)
    assert table.headers[0] == "房东"
    assert [row[1][0] for row in rows_of(table)] == ["张三", "王五"]


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_csv_delimiter_is_sniffed(tmp_path, delimiter):
    path = tmp_path / "rent.txt"
    path.write_bytes(csv_text(delimiter).encode("utf-8"))
    table = read_table(path)
    assert table.headers == ["房东", "承租人", "身份证号", "备注"]
    assert rows_of(table)[0] == (4, ["张三", "李四", ID, "合同到期，需续签"])


def test_csv_utf16_unicode_text(tmp_path):
    path = tmp_path / "rent.txt"  # Excel's "Unicode 文本": UTF-16 with BOM, tab-separated
    path.write_bytes(csv_text("\t").encode("utf-16"))
    assert read_table(path).headers[1] == "承租人"


def test_csv_header_without_title_rows(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("姓名,身份证号\n王芳,110105491231002\n", encoding="utf-8")
    table = read_table(path)
    assert table.header_row == 1
    assert rows_of(table) == [(2, ["王芳", "110105491231002"])]


def test_csv_header_of_unknown_columns_falls_back_to_first_text_row(tmp_path):
    path = tmp_path / "custom.csv"
    path.write_text("楼长工作记录,,\n楼栋,楼长,事项\n3栋,陈一,换灯泡\n", encoding="utf-8")
    table = read_table(path)
    # 楼长/事项 are no known labels, but the row is the first with several text cells.
    assert (table.header_row, table.headers) == (2, ["楼栋", "楼长", "事项"])
    table.close()


def test_csv_too_many_rows(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("姓名,备注\n" + "".join(f"居民{i},\n" for i in range(11)), encoding="utf-8")
    table = read_table(path, max_rows=10)
    with pytest.raises(ImportFileInvalid) as exc, table:
        list(table.rows)
    assert "10" in exc.value.message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty"),
        (b"\r\n \r\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_a_table"),
        ("只有一行标题\n没有表头\n".encode(), "no_header"),
        (b"\xe5\xa7\x93\x80\x80", "encoding"),  # neither UTF-8 nor GB18030
        (b"\xff\xfe\x2d\x59\x0d", "encoding"),  # UTF-16 cut off mid-character
    ],
)
def test_unreadable_csv(tmp_path, content, reason):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileInvalid) as exc:
        read_table(path)
    assert exc.value.details["reason"] == reason
    assert exc.value.message  # a Chinese sentence, never a traceback


def test_missing_file(tmp_path):
    with pytest.raises(ImportFileInvalid):
        read_table(tmp_path / "nope.csv")

"""The three export formats. Each writes rows as they stream in and reports how far it is."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ledger.ledgers.exports.rows import Column

Progress = Callable[[int], None]
# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WIDTHS = {
    "integer": 8,
    "decimal": 10,
    "date": 12,
    "datetime": 17,
    "boolean": 6,
    "choice": 12,
    "multichoice": 20,
    "id_number": 21,
    "phone": 14,
    "longtext": 40,
    "person": 10,
    "household": 14,
    "photo": 8,
    "file": 8,
    "location": 22,
}


@dataclass
class Sheet:
    """What goes above the table: 社区 + 台账名称, 制表单位 and 制表日期."""

    title: str
    unit: str
    made_on: date
    columns: list[Column]
    labels: bool = True

    def headers(self) -> list[str]:
        return [c.label if self.labels else c.key for c in self.columns]


def width_of(column: Column) -> float:
    """Characters wide: by type, never narrower than the Chinese header (2 units a glyph)."""
    base = _WIDTHS.get(column.type, 14)
    if column.key == "seq":
        base = 6
    elif column.key == "area":
        base = 16
    return max(base, len(column.label) * 2 + 2)


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_csv(path: Path, sheet: Sheet, rows: Iterable[list[Any]], progress: Progress) -> int:
    """UTF-8 with a BOM so Excel opens it as Chinese; one header row, values as shown."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(sheet.headers())
        for row in rows:
            out.writerow([_csv_cell(v) for v in row])
            count += 1
            if count % 1000 == 0:
                progress(count)
    return count


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return _safe_text(value)
    return value


def write_xlsx(path: Path, sheet: Sheet, rows: Iterable[list[Any]], progress: Progress) -> int:
    """The paper form in Excel: title, 制表单位/日期, bordered table with a frozen header,
    A4 landscape with the header rows repeated on every printed page."""
    import xlsxwriter

    book = xlsxwriter.Workbook(
        str(path),
        # constant_memory flushes each row to disk as soon as the next one starts.
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    book.set_properties({"title": sheet.title, "company": sheet.unit, "comments": "网格 Wangge"})
    ws = book.add_worksheet(sheet.title[:31].translate(str.maketrans("[]:*?/\\", "（）：＊？／＼")))
    font = {"font_name": "宋体", "font_size": 10}
    fmt = {
        "title": book.add_format(
            {**font, "bold": True, "font_size": 18, "align": "center", "valign": "vcenter"}
        ),
        "unit": book.add_format({**font, "align": "left", "valign": "vcenter"}),
        "made": book.add_format({**font, "align": "right", "valign": "vcenter"}),
        "header": book.add_format(
            {
                **font,
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#F2F2F2",
            }
        ),
    }
    cell = {"border": 1, "valign": "vcenter", **font}
    kinds = {
        "text": book.add_format({**cell, "text_wrap": True}),
        "center": book.add_format({**cell, "align": "center"}),
        "number": book.add_format({**cell, "align": "right"}),
        "date": book.add_format({**cell, "align": "center", "num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({**cell, "align": "center", "num_format": "yyyy-mm-dd hh:mm"}),
    }
    columns = sheet.columns
    last = len(columns) - 1
    formats = [kinds[_format_kind(c)] for c in columns]
    for i, c in enumerate(columns):
        ws.set_column(i, i, width_of(c))

    ws.set_row(0, 36)
    ws.merge_range(0, 0, 0, last, sheet.title, fmt["title"])
    ws.set_row(1, 22)
    half = (last + 1) // 2
    _span(ws, 1, 0, half - 1, f"制表单位：{sheet.unit}", fmt["unit"])
    _span(ws, 1, half, last, f"制表日期：{made_on(sheet.made_on)}", fmt["made"])
    ws.set_row(2, 30)
    for i, header in enumerate(sheet.headers()):
        ws.write_string(2, i, header, fmt["header"])

    count = 0
    for r, row in enumerate(rows, start=3):
        for i, value in enumerate(row):
            _write(ws, r, i, value, formats[i])
        count += 1
        if count % 1000 == 0:
            progress(count)

    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, 2 + count, last)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0, 2)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    book.close()
    return count


def made_on(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _span(ws, row: int, first: int, last: int, text: str, fmt) -> None:
    if last > first:
        ws.merge_range(row, first, row, last, text, fmt)
    else:
        ws.write_string(row, first, text, fmt)


def _format_kind(column: Column) -> str:
    if column.type in ("date", "datetime"):
        return column.type
    if column.type in ("integer", "decimal") and column.key != "seq":
        return "number"
    if column.type in ("choice", "boolean", "id_number", "phone", "person") or column.key == "seq":
        return "center"
    return "text"


def _write(ws, row: int, col: int, value: Any, fmt) -> None:
    # Strings are always written as strings: ID numbers must not become 1.1E+17, and text
    # a field worker typed must never become a formula.
    if value is None:
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        ws.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float)):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), fmt)
    elif isinstance(value, date):
        ws.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


# Where Debian/Ubuntu packages put CJK fonts, and which face of a collection is Simplified.
FONT_CANDIDATES = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
]
PDF_MAX_ROWS = 5000


def find_font(configured: str | None) -> tuple[str, int] | None:
    """The CJK font for PDFs: WANGGE_PDF_FONT if set ("path" or "path#index"), else the first
    system font found."""
    if configured:
        path, _, index = configured.partition("#")
        return (path, int(index or 0)) if Path(path).is_file() else None
    return next(((p, i) for p, i in FONT_CANDIDATES if Path(p).is_file()), None)


def write_pdf(
    path: Path,
    sheet: Sheet,
    rows: Iterable[list[Any]],
    progress: Progress,
    *,
    font: tuple[str, int],
) -> int:
    """A4 landscape, the title and 制表单位/日期 on the first page, the header row repeated on
    every page and page numbers at the foot, in a CJK font embedded as a subset."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    class _Pdf(FPDF):
        def footer(self) -> None:
            self.set_y(-10)
            self.set_font("cjk", size=8)
            self.cell(0, 6, f"第 {self.page_no()} 页，共 {{nb}} 页", align="C")

    pdf = _Pdf(orientation="L", unit="mm", format="A4")
    pdf.set_title(sheet.title)
    pdf.set_creator("网格 Wangge")
    font_path, index = font
    pdf.add_font("cjk", "", font_path, collection_font_number=index)
    # Headings are drawn with the same face: a bold CJK file is another 20 MB to parse.
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=14)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, sheet.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(pdf.epw / 2, 7, f"制表单位：{sheet.unit}")
    pdf.cell(
        pdf.epw / 2,
        7,
        f"制表日期：{made_on(sheet.made_on)}",
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("cjk", size=8)
    widths = [width_of(c) for c in sheet.columns]
    count = 0
    heading = FontFace(emphasis="", fill_color=(242, 242, 242))
    align = tuple("LEFT" if _format_kind(c) == "text" else "CENTER" for c in sheet.columns)
    with pdf.table(
        col_widths=widths,
        headings_style=heading,
        repeat_headings=1,
        line_height=5,
        text_align=align,
        v_align="MIDDLE",
    ) as table:
        table.row(sheet.headers())
        for row in rows:
            table.row([_pdf_cell(v) for v in row])
            count += 1
            if count % 200 == 0:
                progress(count)
    pdf.output(str(path))
    return count


def _pdf_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)

"""The three export formats. Each writes rows as they stream in and reports how far it is."""

from __future__ import annotations

import csv
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from ledger.ledgers.exports.rows import Column

Progress = Callable[[int], None]
# Spreadsheet programs run cells that start with these as formulas (CSV injection).
_FORMULA_START = frozenset("=+-@\t\r")
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


def pdf_width(column: Column) -> float:
    """Relative PDF column widths: dates on one line, long text narrower than on screen."""
    if column.type == "date":
        return 16
    if column.type == "datetime":
        return 24
    if column.type == "longtext":
        return 32
    return width_of(column) + (1 if column.key == "seq" else 0)


def _safe_text(value: str) -> str:
    return "'" + value if value[:1] in _FORMULA_START else value


def write_csv(path: Path, sheet: Sheet, rows: Iterable[list[Any]], progress: Progress) -> int:
    """UTF-8 with a BOM so Excel opens it as Chinese; one header row, values as shown (rows
    come with dates as text)."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(sheet.headers())
        for row in rows:
            out.writerow([_safe_text(v) if type(v) is str else v for v in row])
            count += 1
            if count % 1000 == 0:
                progress(count)
    return count


def write_xlsx(path: Path, sheet: Sheet, rows: Iterable[list[Any]], progress: Progress) -> int:
    """The paper form in Excel: title, 制表单位/日期, bordered table with a frozen header,
    A4 landscape with the header rows repeated on every printed page.

    xlsxwriter lays out the form (styles, print setup, a sample row in each column's style);
    the data rows are then streamed into the sheet's XML directly, which is several times
    faster than a library call per cell and keeps memory flat."""
    template = path.with_name(path.name + ".form.xlsx")
    body = path.with_name(path.name + ".rows.xml")
    try:
        styles = _form(template, sheet)
        count = 0
        with open(body, "w", encoding="utf-8") as out:
            cells = [_cell_writer(c, styles[i]) for i, c in enumerate(sheet.columns)]
            refs = [xl_col_to_name(i) for i in range(len(cells))]
            wrapped = [(i, width_of(c) - 1) for i, c in enumerate(sheet.columns)
                       if _format_kind(c) == "text"]  # fmt: skip
            chunk: list[str] = []
            for r, row in enumerate(rows, start=4):
                line = "".join(
                    w(f"{ref}{r}", v) for w, ref, v in zip(cells, refs, row, strict=True)
                )
                lines = _lines(row, wrapped)
                # Spreadsheets do not grow rows for wrapped text on opening; say how tall.
                height = f' ht="{lines * _LINE_PT + 3:g}" customHeight="1"' if lines > 1 else ""
                chunk.append(f'<row r="{r}"{height}>{line}</row>')
                count += 1
                if count % 1000 == 0:
                    out.write("".join(chunk))
                    chunk.clear()
                    progress(count)
            out.write("".join(chunk))
        _assemble(template, body, path, last_row=3 + count, last_col=refs[-1])
    finally:
        template.unlink(missing_ok=True)
        body.unlink(missing_ok=True)
    return count


_SAMPLE = "wangge-sample-cell"
# Line height of 10-point CJK text in points, with room for the cell's padding.
_LINE_PT = 14.5


def _lines(row: list[Any], wrapped: list[tuple[int, float]]) -> int:
    """How many lines the row's tallest wrapped cell takes (a CJK glyph is two units)."""
    most = 1
    for i, width in wrapped:
        value = row[i]
        if type(value) is not str or (len(value) * 2 <= width and "\n" not in value):
            continue
        lines = 0
        for part in value.split("\n"):
            units = len(part) + sum(1 for ch in part if ch > "\u2e7f")
            lines += max(1, -(-units // int(width)))
        most = max(most, lines)
    return min(most, 15)


def _form(path: Path, sheet: Sheet) -> list[str]:
    """Write the form around the table; return each column's cell style index."""
    import xlsxwriter

    # constant_memory writes the sample row's strings inline, leaving no trace once replaced.
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})  # fmt: skip
    book.set_properties({"title": sheet.title, "company": sheet.unit, "comments": "网格 Wangge"})
    ws = book.add_worksheet(sheet.title[:31].translate(str.maketrans("[]:*?/\\", "（）：＊？／＼")))
    font = {"font_name": "宋体", "font_size": 10}
    title = book.add_format(
        {**font, "bold": True, "font_size": 18, "align": "center", "valign": "vcenter"}
    )
    unit = book.add_format({**font, "align": "left", "valign": "vcenter"})
    made = book.add_format({**font, "align": "right", "valign": "vcenter"})
    header = book.add_format(
        {
            **font,
            "bold": True,
            "border": 1,
            "align": "center",
            "valign": "vcenter",
            "text_wrap": True,
            "bg_color": "#F2F2F2",
        }
    )
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
    for i, c in enumerate(columns):
        ws.set_column(i, i, width_of(c))
    ws.set_row(0, 36)
    _span(ws, 0, 0, last, sheet.title, title)
    ws.set_row(1, 22)
    half = (last + 1) // 2
    _span(ws, 1, 0, half - 1, f"制表单位：{sheet.unit}", unit)
    _span(ws, 1, half, last, f"制表日期：{made_on(sheet.made_on)}", made)
    ws.set_row(2, 30)
    for i, text in enumerate(sheet.headers()):
        ws.write_string(2, i, text, header)
    # The sample row tells which style index xlsxwriter gave each column's format (rows are
    # written in order: constant_memory cannot go back to one).
    for i, column in enumerate(columns):
        ws.write_string(3, i, _SAMPLE, kinds[_format_kind(column)])
    ws.freeze_panes(3, 0)
    ws.autofilter(2, 0, 3, last)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(0, 2)
    ws.fit_to_pages(1, 0)
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
    book.close()
    with zipfile.ZipFile(path) as z:
        xml = z.read(_SHEET).decode()
    sample = xml[xml.index('<row r="4"') : xml.index("</row>", xml.index('<row r="4"'))]
    return re.findall(r'<c r="[A-Z]+4" s="(\d+)"', sample)


_SHEET = "xl/worksheets/sheet1.xml"
# Characters XML 1.0 forbids; a pasted form feed must not make the file unreadable.
_ILLEGAL = {c: None for c in [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF]}
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _xml_text(text: str) -> str:
    text = text.translate(_ILLEGAL).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if text[:1].isspace() or text[-1:].isspace():
        return f'<is><t xml:space="preserve">{text}</t></is>'
    return f"<is><t>{text}</t></is>"


def _cell_writer(column: Column, style: str):
    """A function (ref, value) → the cell's XML, specialised per column once."""

    def cell(ref: str, value: Any) -> str:
        if value is None:
            return f'<c r="{ref}" s="{style}"/>'
        if isinstance(value, bool):
            return (
                f'<c r="{ref}" s="{style}" t="inlineStr">{_xml_text("是" if value else "否")}</c>'
            )
        if isinstance(value, (int, float)):
            return f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>'
        if isinstance(value, datetime):
            serial = (value.replace(tzinfo=None) - _EXCEL_EPOCH).total_seconds() / 86400
            return f'<c r="{ref}" s="{style}"><v>{serial!r}</v></c>'
        if isinstance(value, date):
            return f'<c r="{ref}" s="{style}"><v>{(value - _EXCEL_EPOCH.date()).days}</v></c>'
        # Strings stay strings: an ID number never turns into 1.1E+17, nor text into a formula.
        return f'<c r="{ref}" s="{style}" t="inlineStr">{_xml_text(str(value))}</c>'

    return cell


def _assemble(template: Path, body: Path, path: Path, *, last_row: int, last_col: str) -> None:
    """Copy the form's parts into the real file, the sheet with the streamed rows in place of
    the sample row and its extent (dimension, filter range) set to the real last row."""
    last_row = max(last_row, 3)
    with (
        zipfile.ZipFile(template) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/workbook.xml":
                data = re.sub(
                    rb"(_xlnm\._FilterDatabase[^>]*>[^<]*\$)4(</definedName>)",
                    rb"\g<1>" + str(last_row).encode() + rb"\2",
                    data,
                )
            if info.filename != _SHEET:
                dst.writestr(info, data)
                continue
            xml = data.decode()
            start = xml.index('<row r="4"')
            end = xml.index("</row>", start) + len("</row>")
            head = re.sub(
                r'<dimension ref="[^"]*"/>',
                f'<dimension ref="A1:{last_col}{last_row}"/>',
                xml[:start],
            )
            tail = re.sub(
                r'<autoFilter ref="([A-Z]+3):[A-Z]+4"/>',
                rf'<autoFilter ref="\g<1>:{last_col}{last_row}"/>',
                xml[end:],
            )
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head.encode())
                with open(body, "rb") as rows_xml:
                    shutil.copyfileobj(rows_xml, out, 1 << 20)
                out.write(tail.encode())


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
    widths = [pdf_width(c) for c in sheet.columns]
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
    # Rows for PDFs come with dates as text already (Shown(text_dates=True)).
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)

"""Reading the rows of an uploaded ledger spreadsheet (xlsx or CSV), streamed.

The format is told by content, not by the file name: uploads are stored under neutral
names, and clerks rename files freely. Rows keep the row number Excel shows, so every
message about a row points at the line the clerk sees. Anything unreadable becomes
``ImportFileInvalid`` with a message a clerk can act on.
"""

from __future__ import annotations

import codecs
import csv
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInput
from ledger.ledgers.imports.headers import count_recognised

__all__ = ["HEADER_SEARCH_ROWS", "ImportFileInvalid", "Table", "read_table"]

HEADER_SEARCH_ROWS = 10
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # .xls, .et, and password-protected .xlsx alike
# Far above a 100 000-row ledger (about 150 MB of sheet XML), far below what would take
# the server down; a zip's declared sizes are enforced by zipfile while reading.
_MAX_MEMBER_BYTES = 512 * 1024 * 1024
_MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_MAX_MEMBERS = 10_000
_SNIFF_CHARS = 64 * 1024
_DELIMITERS = (",", "\t", ";")
_CSV_CHUNK = 1024 * 1024


class ImportFileInvalid(InvalidInput):
    """The uploaded file cannot be read as a ledger table; the message says why."""

    code = "ledgers.invalid_import_file"
    message = "无法读取导入文件，请使用 Excel（.xlsx）或 CSV 文件"


@dataclass
class Table:
    """A sheet's header row and a lazy stream of its data rows.

    ``rows`` yields ``(row_number, values)``: the 1-based row number as shown in Excel (for
    CSV, the record's line number) and the raw cell values, one per header. Fully empty
    rows are skipped. The stream raises ``ImportFileInvalid`` when it meets more than
    ``max_rows`` data rows or a corrupt part of the file, so consume it before committing
    anything. ``close()`` (or ``with``) releases the file if the stream is abandoned.
    """

    format: str  # "xlsx" or "csv"
    header_row: int
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    sheet: str | None = None
    # Releases the file even when ``rows`` was never started (closing an unstarted
    # generator does not run its ``finally``).
    _release: Callable[[], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()
        if self._release is not None:
            self._release()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def read_table(
    path: Path, *, max_rows: int = 100_000, fields: list[dict[str, Any]] | None = None
) -> Table:
    """Open ``path`` and find its header row; ``fields`` (a template's) helps find it.

    The header is the first of the first ten rows with two or more cells that name
    known columns, failing that the first with two or more text cells.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ImportFileInvalid("无法打开导入文件，请重新上传", details={"reason": "io"}) from exc
    if not head:
        raise _empty()
    if head.startswith(_OLE_MAGIC):
        raise ImportFileInvalid(
            "不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 .csv 后再导入"
            "（如文件设有打开密码，请先取消密码）",
            details={"reason": "xls"},
        )
    if head.startswith(_XLSX_MAGIC):
        return _read_xlsx(path, max_rows, fields)
    return _read_csv(path, max_rows, fields)


# ----------------------------------------------------------------- shared


def _empty() -> ImportFileInvalid:
    return ImportFileInvalid("导入文件是空的，请检查后重新上传", details={"reason": "empty"})


def _too_many(max_rows: int) -> ImportFileInvalid:
    return ImportFileInvalid(
        f"一次最多导入 {max_rows} 行数据，请将文件拆分后分批导入",
        details={"reason": "too_many_rows", "max_rows": max_rows},
    )


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _header_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _looks_like_label(value: Any) -> bool:
    # "制表单位：XX社区" is a caption with a value, not a column header.
    return isinstance(value, str) and bool(value.strip()) and not any(c in value for c in ":：")


def _find_header(
    first_rows: list[tuple[int, list[Any]]], fields: list[dict[str, Any]] | None
) -> tuple[int, list[str]]:
    """The header's row number and its texts, trailing empty cells dropped."""
    chosen = None
    for number, values in first_rows:
        texts = [v if isinstance(v, str) else "" for v in values]
        if count_recognised(texts, fields) >= 2:
            chosen = number, values
            break
    if chosen is None:
        for number, values in first_rows:
            if sum(_looks_like_label(v) for v in values) >= 2:
                chosen = number, values
                break
    if chosen is None:
        raise ImportFileInvalid(
            f"在前 {HEADER_SEARCH_ROWS} 行中找不到表头（列名行），"
            "请确认表头在表格开头且至少有两个列名",
            details={"reason": "no_header"},
        )
    number, values = chosen
    headers = [_header_text(v) for v in values]
    while headers and not headers[-1]:
        headers.pop()
    return number, headers


def _data_rows(
    rows: Iterable[tuple[int, Iterable[Any]]], width: int, max_rows: int
) -> Iterator[tuple[int, list[Any]]]:
    """Non-empty rows cut or padded to ``width`` cells, at most ``max_rows`` of them."""
    count = 0
    for number, values in rows:
        # Cells right of the last header have no column to go to.
        cells = list(islice(values, width))
        if all(_is_blank(v) for v in cells):
            continue
        count += 1
        if count > max_rows:
            raise _too_many(max_rows)
        cells.extend([None] * (width - len(cells)))
        yield number, cells


# ----------------------------------------------------------------- xlsx


def _check_zip(path: Path) -> None:
    """Reject archives that are not zips or would inflate beyond reason (zip bombs)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ImportFileInvalid(
            "Excel 文件已损坏，无法读取，请在 Excel 中打开并重新保存后再导入",
            details={"reason": "corrupt"},
        ) from exc
    total = sum(m.file_size for m in members)
    if (
        len(members) > _MAX_MEMBERS
        or total > _MAX_TOTAL_BYTES
        or any(m.file_size > _MAX_MEMBER_BYTES for m in members)
    ):
        raise ImportFileInvalid(
            "Excel 文件解压后过大，无法导入，请删除无关的工作表或拆分后再导入",
            details={"reason": "too_large"},
        )


def _corrupt_xlsx(exc: BaseException) -> ImportFileInvalid:
    return ImportFileInvalid(
        "无法读取该 Excel 文件，请确认是 .xlsx 格式，或在 Excel 中重新保存后再导入",
        details={"reason": "corrupt", "error": type(exc).__name__},
    )


def _read_xlsx(path: Path, max_rows: int, fields: list[dict[str, Any]] | None) -> Table:
    # Imported here: only xlsx uploads need openpyxl, and it is slow to import.
    from openpyxl import load_workbook

    _check_zip(path)
    fh = open(path, "rb")  # noqa: SIM115 - closed by the row stream or on error below
    try:
        # A file object skips openpyxl's check of the file name's extension.
        workbook = load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises anything from KeyError to XML errors
        fh.close()
        raise _corrupt_xlsx(exc) from exc
    try:
        sheets = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        if not sheets:
            raise ImportFileInvalid("Excel 文件中没有可见的工作表", details={"reason": "no_sheet"})
        sheet = sheets[0]
        # The declared dimension is sometimes wrong (some tools write A1:A1) and would
        # cut rows off; without it rows are read as they are stored.
        sheet.reset_dimensions()
        first = list(
            enumerate(
                (list(r) for r in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True)),
                start=1,
            )
        )
        if not any(not _is_blank(v) for _, values in first for v in values):
            raise _empty()
        header_row, headers = _find_header(first, fields)
    except ImportFileInvalid:
        workbook.close()
        fh.close()
        raise
    except Exception as exc:  # a corrupt sheet surfaces on first read
        workbook.close()
        fh.close()
        raise _corrupt_xlsx(exc) from exc

    def release() -> None:
        workbook.close()
        fh.close()

    def stream() -> Iterator[tuple[int, list[Any]]]:
        try:
            # A second pass from the row after the header: nothing is held in memory but
            # the current row, and max_col keeps a sheet formatted out to column XFD narrow.
            raw = sheet.iter_rows(min_row=header_row + 1, max_col=len(headers), values_only=True)
            yield from _data_rows(enumerate(raw, start=header_row + 1), len(headers), max_rows)
        except ImportFileInvalid:
            raise
        except Exception as exc:
            raise _corrupt_xlsx(exc) from exc
        finally:
            release()

    return Table("xlsx", header_row, headers, stream(), sheet=sheet.title, _release=release)


# ----------------------------------------------------------------- csv


def _detect_encoding(path: Path) -> str:
    """utf-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode 文本"), else GB18030
    (what Chinese Excel and WPS write for "CSV"). The whole file is checked, in chunks."""
    with open(path, "rb") as fh:
        start = fh.read(4)
        utf16 = start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
        if not utf16 and b"\x00" in start:
            raise _not_a_table()
        for encoding in ("utf-16",) if utf16 else ("utf-8-sig", "gb18030"):
            fh.seek(0)
            decoder = codecs.getincrementaldecoder(encoding)()
            try:
                while chunk := fh.read(_CSV_CHUNK):
                    # NUL never occurs in text; in UTF-16 it is half of every ASCII char.
                    if not utf16 and b"\x00" in chunk:
                        raise _not_a_table()
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                continue
            return encoding
    raise ImportFileInvalid(
        "无法识别文件的文字编码，请在 Excel 中另存为 .xlsx 后再导入",
        details={"reason": "encoding"},
    )


def _not_a_table() -> ImportFileInvalid:
    return ImportFileInvalid(
        "该文件不是 Excel 或 CSV 表格，请上传 .xlsx 或 .csv 文件",
        details={"reason": "not_a_table"},
    )


def _sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the most sample lines into the same number (≥ 2) of cells.

    Excel pads every line to the sheet's width, so the true delimiter gives one dominant
    width even past a title line; a comma inside a tab-separated cell does not.
    """
    lines = sample.splitlines()[:-1] or sample.splitlines()  # the last may be cut off
    best, best_score = ",", (0, 0)
    for delimiter in _DELIMITERS:
        widths: dict[int, int] = {}
        try:
            for cells in csv.reader(lines, delimiter=delimiter):
                if len(cells) >= 2:
                    widths[len(cells)] = widths.get(len(cells), 0) + 1
        except csv.Error:
            continue
        if widths:
            width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
            if (count, width) > best_score:
                best, best_score = delimiter, (count, width)
    return best


def _read_csv(path: Path, max_rows: int, fields: list[dict[str, Any]] | None) -> Table:
    encoding = _detect_encoding(path)
    fh = open(path, encoding=encoding, newline="")  # noqa: SIM115 - the stream closes it
    try:
        sample = fh.read(_SNIFF_CHARS)
        if not sample.strip():
            raise _empty()
        fh.seek(0)
        reader = csv.reader(fh, delimiter=_sniff_delimiter(sample))
        records = _numbered(reader)
        first = list(islice(records, HEADER_SEARCH_ROWS))
        header_row, headers = _find_header(first, fields)
    except csv.Error as exc:
        fh.close()
        raise _corrupt_csv(exc) from exc
    except BaseException:
        fh.close()
        raise

    # The header search read a few rows past the header; they are data.
    rest = chain((r for r in first if r[0] > header_row), records)

    def stream() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from _data_rows(rest, len(headers), max_rows)
        except csv.Error as exc:
            raise _corrupt_csv(exc) from exc
        finally:
            fh.close()

    return Table("csv", header_row, headers, stream(), _release=fh.close)


def _numbered(reader: Any) -> Iterator[tuple[int, list[Any]]]:
    """Records with their number, which is the Excel row (a quoted cell may span lines)."""
    for number, cells in enumerate(reader, start=1):
        yield number, [cell if cell.strip() else None for cell in cells]


def _corrupt_csv(exc: BaseException) -> ImportFileInvalid:
    return ImportFileInvalid(
        "CSV 文件格式有误，无法读取，请在 Excel 中打开并另存为 .xlsx 后再导入",
        details={"reason": "corrupt", "error": str(exc)[:200]},
    )

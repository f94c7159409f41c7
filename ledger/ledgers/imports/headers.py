"""Matching a spreadsheet's column headers to a ledger template's fields.

Clerks rarely copy a template's labels exactly: the same column is "身份证号" in one grid's
sheet and "公民身份号码" in the next, often with a "*" required marker or a "（必填）" note.
Labels are normalised first, then matched exactly, by field key, and finally through
groups of known synonyms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "AREA_LABELS",
    "META_LABELS",
    "VARIANTS",
    "HeaderMatch",
    "count_recognised",
    "match_headers",
    "normalize_label",
]

# U+FF01..U+FF5E is printable ASCII shifted by 0xFEE0 (full-width forms).
_FULLWIDTH_ASCII = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
# \s covers U+3000 (ideographic space) and line breaks inside cells; zero-width characters
# are not whitespace but arrive the same way, pasted from web pages.
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
# After folding, full-width brackets are ASCII; 【】 and 〔〕 are separate code points.
_TRAILING_NOTE = re.compile(r"[(\[【〔][^()\[\]【】〔〕]*[)\]】〕]$")

# Synonym groups, keyed by the most common form. Every member (the key included) is listed
# in normalised form, so a lookup is a plain dict hit.
VARIANTS: dict[str, tuple[str, ...]] = {
    "身份证号": (
        "身份证号", "公民身份号码", "身份证号码", "身份证", "证件号码", "证件号",
        "居民身份证号码", "居民身份证号", "公民身份证号码", "公民身份证号", "身份证件号码",
    ),
    "姓名": ("姓名", "名字", "居民姓名", "人员姓名"),
    "联系电话": (
        "联系电话", "电话", "手机", "手机号", "手机号码", "联系方式", "电话号码", "联系号码",
    ),
    "地址": ("地址", "住址", "居住地址", "现住址", "家庭住址", "现居住地址", "详细地址"),
    "户籍地址": ("户籍地址", "户籍地", "户籍所在地", "户口所在地"),
    "性别": ("性别",),
    "民族": ("民族",),
    "出生日期": ("出生日期", "出生年月", "出生年月日"),
    "年龄": ("年龄",),
    "政治面貌": ("政治面貌",),
    "文化程度": ("文化程度", "学历"),
    "婚姻状况": ("婚姻状况", "婚姻状态"),
    "工作单位": ("工作单位", "单位", "就业单位"),
    "备注": ("备注", "说明", "备注说明"),
    "所属网格": ("所属网格", "网格", "网格名称", "所在网格"),
    "走访日期": ("走访日期", "走访时间"),
    "走访人": ("走访人", "走访人员", "走访工作人员"),
    "走访内容": ("走访内容", "走访情况"),
    "处理结果": ("处理结果", "处理情况", "办理结果", "办理情况"),
    "房东": ("房东", "房主", "出租人", "房东姓名"),
    "承租人": ("承租人", "租户", "租客", "承租人姓名"),
    "楼栋": ("楼栋", "楼栋号", "楼号", "栋号"),
    "房号": ("房号", "门牌号", "房间号", "室号"),
}  # fmt: skip
_GROUP_OF = {member: group for group, members in VARIANTS.items() for member in members}
_ID_GROUP = "身份证号"
_PHONE_GROUP = "联系电话"
AREA_LABELS = frozenset(VARIANTS["所属网格"])
# Columns a ledger export carries that the system fills itself (serial numbers, who entered
# the row and when); importing them would be wrong, reporting them as unused is noise.
META_LABELS = frozenset(
    {"序号", "序", "行号", "登记人", "登记时间", "登记日期", "填报人", "填报时间",
     "填报日期", "填表人", "录入人", "录入时间"}
)  # fmt: skip


def normalize_label(text: Any) -> str:
    """The comparable form of a header or field label ("＊ 身份证号（必填）" -> "身份证号")."""
    if text is None:
        return ""
    label = _SPACES.sub("", str(text).translate(_FULLWIDTH_ASCII))
    # Markers and notes can stack in either order: "*姓名(必填)", "姓名(必填)*".
    while True:
        stripped = label.strip("*")
        note = _TRAILING_NOTE.search(stripped)
        # A label that is only a note ("(元)") keeps it rather than becoming empty.
        if note and note.start() > 0:
            stripped = stripped[: note.start()]
        if stripped == label:
            break
        label = stripped
    return label.lower()


@dataclass
class HeaderMatch:
    """Which column feeds which field, and what the clerk should hear about the rest."""

    columns: dict[int, str] = field(default_factory=dict)  # column index -> field key
    area_column: int | None = None
    ignored: list[str] = field(default_factory=list)  # headers not imported
    missing_required: list[str] = field(default_factory=list)  # labels of required fields


def match_headers(headers: list[str], fields: list[dict[str, Any]]) -> HeaderMatch:
    """Map header cells to template fields; see the module docstring for the order.

    Each column is matched by the strongest rule it satisfies, strongest rules first over
    all columns, so an exact "联系电话" column wins over an earlier "电话" column. Within
    one rule, the first column to claim a field keeps it and later ones are ignored.
    Empty headers and system columns (序号, 登记人 ...) are skipped without a mention.
    """
    result = HeaderMatch()
    labels = [normalize_label(h) for h in headers]
    by_label: dict[str, str] = {}
    by_key: dict[str, str] = {}
    by_group: dict[str, list[str]] = {}
    by_type: dict[str, list[str]] = {}
    for f in fields:
        norm = normalize_label(f["label"])
        by_label.setdefault(norm, f["key"])
        by_key.setdefault(f["key"].lower(), f["key"])
        group = _GROUP_OF.get(norm)
        if group:
            by_group.setdefault(group, []).append(f["key"])
        by_type.setdefault(f["type"], []).append(f["key"])

    pending = {i for i, label in enumerate(labels) if label}
    claimed: set[str] = set()
    duplicates: set[int] = set()

    def claim(index: int, key: str | None) -> None:
        if key is None:
            return
        pending.discard(index)
        if key in claimed:
            duplicates.add(index)
        else:
            claimed.add(key)
            result.columns[index] = key

    for i in sorted(pending):
        claim(i, by_label.get(labels[i]))
    for i in sorted(pending):
        claim(i, by_key.get(labels[i]))
    for i in sorted(pending):
        if labels[i] in META_LABELS:
            pending.discard(i)
        elif labels[i] in AREA_LABELS:
            pending.discard(i)
            if result.area_column is None:
                result.area_column = i
            else:
                duplicates.add(i)
    for i in sorted(pending):
        group = _GROUP_OF.get(labels[i])
        candidates = by_group.get(group, []) if group else []
        # Several fields in one group (e.g. 电话 and 手机 both in the template): take the
        # first still free; exact labels have already claimed theirs above.
        free = [key for key in candidates if key not in claimed]
        if candidates:
            claim(i, free[0] if free else candidates[0])
    # An "身份证号" column for a template whose only ID field is labelled differently
    # ("承租人证件"): unambiguous when there is exactly one field of that type.
    for i in sorted(pending):
        group = _GROUP_OF.get(labels[i])
        kind = {_ID_GROUP: "id_number", _PHONE_GROUP: "phone"}.get(group or "")
        if kind and len(by_type.get(kind, [])) == 1:
            claim(i, by_type[kind][0])

    result.columns = dict(sorted(result.columns.items()))
    result.ignored = [str(headers[i]).strip() for i in sorted(pending | duplicates)]
    result.missing_required = [
        f["label"] for f in fields if f.get("required") and f["key"] not in claimed
    ]
    return result


def count_recognised(headers: list[Any], fields: list[dict[str, Any]] | None = None) -> int:
    """How many cells of a row look like column headers (for finding the header row).

    A cell counts if it matches a field, is a system or grid column, or is a label from
    ``VARIANTS`` even when the template lacks it, so a sheet meant for another ledger is
    still read and then told which required columns it lacks.
    """
    texts = [h if isinstance(h, str) else "" for h in headers]
    match = match_headers(texts, fields or [])
    count = 0
    for i, text in enumerate(texts):
        label = normalize_label(text)
        if not label:
            continue
        if (
            i in match.columns
            or i == match.area_column
            or label in META_LABELS
            or label in _GROUP_OF
        ):
            count += 1
    return count

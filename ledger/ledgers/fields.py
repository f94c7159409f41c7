"""Field types of a ledger template, and the marshmallow schema that validates entries.

A template's fields are data (stored as JSON, versioned), so an entry's schema is built from
them at run time. Values are stored as JSON: dates and decimals as text, files as sha256 lists,
locations as ``{"lat", "lon"}``. ID numbers and phones are personal data: the entry keeps
them encrypted, apart from the rest (see ``entries.py``).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma

from ledger.errors import InvalidInput
from ledger.ledgers.errors import TemplateInvalid
from ledger.registry.common import normalize_phone
from ledger.registry.idnumber import parse_id_number

TYPES = (
    "text", "longtext", "integer", "decimal", "date", "datetime", "choice", "multichoice",
    "boolean", "person", "household", "phone", "id_number", "file", "photo", "location",
)  # fmt: skip
TYPE_LABELS = {
    "text": "文本", "longtext": "长文本", "integer": "整数", "decimal": "小数", "date": "日期",
    "datetime": "日期时间", "choice": "单选", "multichoice": "多选", "boolean": "是/否",
    "person": "居民", "household": "户", "phone": "电话", "id_number": "身份证号",
    "file": "附件", "photo": "照片", "location": "位置",
}  # fmt: skip
PERSONAL = frozenset({"phone", "id_number"})
CHOICE_TYPES = frozenset({"choice", "multichoice"})
# What ``source`` may name: a linked resident's or household's value that prefills a field.
SOURCES = {
    "person.name": "name",
    "person.sex": "sex",
    "person.ethnicity": "ethnicity",
    "person.birth_date": "birth_date",
    "person.id_number": "id_number",
    "person.phone": "phone",
    "person.address": "current_address",
    "person.registered_address": "registered_address",
    "household.household_number": "household_number",
    "household.address": "address",
    "household.household_type": "household_type",
}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Entry columns a field key may not shadow in lists, filters and exports.
RESERVED = frozenset({"id", "area", "version", "created_by", "created_at", "updated_at",
                      "template_version", "data", "q"})  # fmt: skip
CHINA = ZoneInfo("Asia/Shanghai")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


# ----------------------------------------------------------------- template definitions


def _option(raw: Any) -> dict[str, str] | None:
    if isinstance(raw, str) and raw.strip():
        return {"value": raw.strip(), "label": raw.strip()}
    if isinstance(raw, dict) and isinstance(raw.get("value"), str | int):
        value = str(raw["value"]).strip()
        label = str(raw.get("label") or value).strip()
        return {"value": value, "label": label} if value else None
    return None


def check_fields(raw_fields: Any) -> list[dict[str, Any]]:
    """Validate and normalise a template's field list; raises ``TemplateInvalid``."""
    if not isinstance(raw_fields, list) or not raw_fields:
        details = {"fields": {"fields": ["至少需要一个字段"]}}
        raise TemplateInvalid("台账至少需要一个字段", details=details)
    errors: dict[str, list[str]] = {}
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_fields):
        where = f"fields[{i}]"
        if not isinstance(raw, dict):
            errors[where] = ["应为对象"]
            continue
        key = raw.get("key")
        problems = []
        if not isinstance(key, str) or not KEY_RE.match(key):
            problems.append("key 应以小写字母开头，只含小写字母、数字和下划线（最多40个）")
        elif key in RESERVED:
            problems.append(f"key 不能使用保留字 {key}")
        elif key in seen:
            problems.append(f"key {key} 重复")
        label = raw.get("label")
        if not isinstance(label, str) or not label.strip() or len(label) > 60:
            problems.append("label 为必填的中文名称（最多60字）")
        kind = raw.get("type")
        if kind not in TYPES:
            problems.append("type 应为：" + "、".join(TYPES))
        options: list[dict[str, str]] = []
        if kind in CHOICE_TYPES:
            options = [o for o in map(_option, raw.get("options") or []) if o]
            values = [o["value"] for o in options]
            if not options:
                problems.append("单选、多选字段需要 options")
            elif len(set(values)) != len(values):
                problems.append("options 中有重复的选项")
        source = raw.get("source")
        if source is not None and source not in SOURCES:
            problems.append("source 应为：" + "、".join(SOURCES))
        if problems:
            errors[where] = problems
            continue
        seen.add(key)
        field = {
            "key": key,
            "label": label.strip(),
            "type": kind,
            "required": bool(raw.get("required", False)),
            "help": str(raw.get("help") or "").strip(),
        }
        if options:
            field["options"] = options
        if source:
            field["source"] = source
        out.append(field)
    sources = [f for f in out if f.get("source")]
    if sources and not any(f["type"] in ("person", "household") for f in out):
        errors["fields"] = ["使用 source 预填时，模板需要一个“居民”或“户”字段"]
    if errors:
        raise TemplateInvalid(details={"fields": errors})
    return out


# ----------------------------------------------------------------- entry values

_MESSAGES = {"required": "必填", "null": "必填", "invalid": "格式不正确"}


class _Value(ma.fields.Field):
    """Base: empty input ("", [], None) means "no value"; subclasses convert the rest."""

    def __init__(self, spec: dict[str, Any], **kwargs) -> None:
        self.spec = spec
        super().__init__(
            error_messages=_MESSAGES, allow_none=True, required=spec["required"], **kwargs
        )

    def deserialize(self, value, attr=None, data=None, **kwargs):
        if value in ("", []) or (isinstance(value, str) and not value.strip()):
            value = None
        if value is None:
            if self.spec["required"]:
                raise ma.ValidationError("必填")
            return None
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return self.convert(value)

    def convert(self, value: Any) -> Any:  # pragma: no cover - every type overrides it
        raise NotImplementedError


class _Text(_Value):
    limit = 500

    def convert(self, value):
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ma.ValidationError("应为文本")
        text = str(value).strip()
        if len(text) > self.limit:
            raise ma.ValidationError(f"最多{self.limit}字")
        return text


class _LongText(_Text):
    limit = 10000


class _Integer(_Value):
    def convert(self, value):
        if isinstance(value, bool):
            raise ma.ValidationError("应为整数")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ma.ValidationError("应为整数") from None
        if number != number.to_integral_value() or abs(number) > 10**15:
            raise ma.ValidationError("应为整数")
        return int(number)


class _Decimal(_Value):
    def convert(self, value):
        if isinstance(value, bool):
            raise ma.ValidationError("应为数字")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ma.ValidationError("应为数字") from None
        if not number.is_finite() or abs(number) > 10**15:
            raise ma.ValidationError("应为数字")
        # Text keeps the digits exactly (amounts of money are common).
        return format(number.normalize(), "f")


class _Date(_Value):
    def convert(self, value):
        try:
            return date.fromisoformat(str(value).strip()[:10]).isoformat()
        except ValueError:
            raise ma.ValidationError("日期格式应为 YYYY-MM-DD") from None


class _DateTime(_Value):
    def convert(self, value):
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ma.ValidationError("时间格式应为 YYYY-MM-DDTHH:MM（可带时区）") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=CHINA)  # the offices' clocks
        return moment.astimezone(CHINA).isoformat(timespec="seconds")


class _Choice(_Value):
    def _lookup(self, value) -> str:
        text = str(value).strip() if isinstance(value, str | int) else None
        for option in self.spec["options"]:
            # Labels are accepted too: imports and dictation carry them.
            if text in (option["value"], option["label"]):
                return option["value"]
        labels = "、".join(o["label"] for o in self.spec["options"])
        raise ma.ValidationError(f"应为以下选项之一：{labels}")

    def convert(self, value):
        return self._lookup(value)


class _MultiChoice(_Choice):
    def convert(self, value):
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            chosen = self._lookup(item)
            if chosen not in out:
                out.append(chosen)
        return out


class _Boolean(_Value):
    TRUE = frozenset({"true", "是", "1", "yes", "y", "有"})
    FALSE = frozenset({"false", "否", "0", "no", "n", "无"})

    def convert(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        word = value.strip().lower() if isinstance(value, str) else None
        if word in self.TRUE:
            return True
        if word in self.FALSE:
            return False
        raise ma.ValidationError("应为 是 或 否")


class _RecordRef(_Value):
    def convert(self, value):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise ma.ValidationError("记录编号格式有误") from None


class _Phone(_Value):
    def convert(self, value):
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ma.ValidationError("应为电话号码")
        try:
            return normalize_phone(str(value))
        except InvalidInput:
            raise ma.ValidationError("电话号码格式不正确，手机号应为11位") from None


class _IdNumber(_Value):
    def convert(self, value):
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ma.ValidationError("应为身份证号")
        try:
            return parse_id_number(str(value)).number
        except InvalidInput as exc:
            raise ma.ValidationError(exc.message) from None


class _Files(_Value):
    def convert(self, value):
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            digest = str(item).strip().lower() if isinstance(item, str) else ""
            if not SHA256_RE.match(digest):
                raise ma.ValidationError("应为已上传文件的 sha256")
            if digest not in out:
                out.append(digest)
        if len(out) > 50:
            raise ma.ValidationError("最多50个文件")
        return out


class _Location(_Value):
    def convert(self, value):
        if not isinstance(value, dict):
            raise ma.ValidationError('应为 {"lat": 纬度, "lon": 经度}')
        out = {}
        for key, bound in (("lat", 90), ("lon", 180)):
            number = value.get(key)
            if not isinstance(number, int | float) or isinstance(number, bool):
                raise ma.ValidationError(f"缺少或无效的 {key}")
            if not -bound <= number <= bound:
                raise ma.ValidationError(f"{key} 超出范围")
            out[key] = float(number)
        accuracy = value.get("accuracy")
        if isinstance(accuracy, int | float) and not isinstance(accuracy, bool) and accuracy >= 0:
            out["accuracy"] = float(accuracy)
        return out


FIELD_CLASSES: dict[str, type[_Value]] = {
    "text": _Text, "longtext": _LongText, "integer": _Integer, "decimal": _Decimal,
    "date": _Date, "datetime": _DateTime, "choice": _Choice, "multichoice": _MultiChoice,
    "boolean": _Boolean, "person": _RecordRef, "household": _RecordRef, "phone": _Phone,
    "id_number": _IdNumber, "file": _Files, "photo": _Files, "location": _Location,
}  # fmt: skip


class _EntrySchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    error_messages = {"unknown": "模板中没有这个字段", "type": "应为对象"}


def entry_schema(fields: list[dict[str, Any]]) -> ma.Schema:
    """The marshmallow schema that validates an entry's ``data`` against these fields."""
    declared = {f["key"]: FIELD_CLASSES[f["type"]](f) for f in fields}
    return _EntrySchema.from_dict(declared, name="LedgerEntryData")()


def validate_data(fields: list[dict[str, Any]], data: Any, *, partial: bool = False,
                  schema: ma.Schema | None = None) -> dict:  # fmt: skip
    """Validated, normalised values; raises ma.ValidationError with per-field messages.

    ``partial``: only the keys given (an edit); a required field may still not be emptied.
    ``schema``: ``entry_schema(fields)`` built once by callers validating many rows.
    """
    if not isinstance(data, dict):
        raise ma.ValidationError({"data": ["应为对象"]})
    schema = schema or entry_schema(fields)
    loaded = schema.load(data, partial=partial)
    if not partial:
        for f in fields:
            loaded.setdefault(f["key"], None)
    return loaded


def labels_of(field: dict[str, Any], value: Any) -> Any:
    """A choice value as its label (exports and views for people, not machines)."""
    if value is None or field["type"] not in CHOICE_TYPES:
        return value
    names = {o["value"]: o["label"] for o in field["options"]}
    if isinstance(value, list):
        return [names.get(v, v) for v in value]
    return names.get(value, value)

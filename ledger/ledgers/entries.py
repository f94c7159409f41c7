"""Entry operations: create, read, edit with If-Match, delete and list a ledger's entries.

Personal values (ID numbers, phones) never reach ``data``: they are kept in one encrypted
blob per entry and masked in views. Everything else is plain JSON, so lists filter on it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

import marshmallow as ma
from sqlalchemy import Float, Select, String, and_, case, cast, func, or_, select

from ledger.areas.models import Area
from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import atomic, new_uuid, utcnow
from ledger.errors import InvalidInput
from ledger.files.operations import set_refs
from ledger.ledgers.errors import DuplicateEntryId, EntryInvalid, EntryNotFound, TemplateReadOnly
from ledger.ledgers.fields import PERSONAL, SOURCES, validate_data
from ledger.ledgers.models import LedgerEntry, LedgerEntryKey, LedgerTemplate
from ledger.ledgers.templates import all_fields, get_template
from ledger.registry.common import (
    check_version,
    client_id,
    grid_in_scope,
    newest_first_page,
)
from ledger.registry.idnumber import MASKS
from ledger.registry.models import Household, Person
from ledger.registry.people import person_view

# Offices keep ledgers on Beijing time (no daylight saving).
CHINA = timezone(timedelta(hours=8))
# Lists page on the ledger's date, then the moment of entry.
PAGE_KEYS = ("entry_date", "created_at", "id")
# Other orders a list may ask for: these entry columns, or ``data.<key>`` for a field of these
# types (personal values are encrypted and references are ids: neither has a useful order).
SORT_COLUMNS = {"entry_date": "date", "created_at": "datetime", "updated_at": "datetime"}
SORTABLE_TYPES = frozenset({"text", "choice", "date", "datetime", "integer", "decimal"})
_TEXT_TYPES = frozenset({"text", "longtext", "choice", "multichoice"})


def writable_template(ctx: Ctx, code: str) -> LedgerTemplate:
    template = get_template(ctx, code)
    if template.kind != "entries":
        raise TemplateReadOnly(details={"code": code})
    return template


def _invalid(errors: dict[str, Any]) -> EntryInvalid:
    return EntryInvalid(details={"fields": errors})


def _validated(fields: list[dict], values: Any, *, partial: bool = False) -> dict[str, Any]:
    try:
        return validate_data(fields, values, partial=partial)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"data": exc.messages}
        raise _invalid(messages) from None


def _grid(ctx: Ctx, code: Any) -> Area:
    try:
        return grid_in_scope(ctx, str(code))
    except InvalidInput as exc:
        raise _invalid(exc.details.get("fields") or {"area": [exc.message]}) from None


def _linked(ctx: Ctx, fields: list[dict], values: dict[str, Any]) -> dict[str, Any]:
    """The residents and households an entry names, each checked to be in the caller's grids."""
    linked: dict[str, Any] = {}
    errors = {}
    for f in fields:
        ref = values.get(f["key"])
        if f["type"] not in ("person", "household") or not ref:
            continue
        model = Person if f["type"] == "person" else Household
        record = ctx.session.get(model, ref)
        if record is None or not ctx.scope.allows(record.area_id):
            errors[f["key"]] = ["该居民或户不存在，或不在您负责的网格内"]
            continue
        linked.setdefault(f["type"], record)
    if errors:
        raise _invalid(errors)
    return linked


def prefill(ctx: Ctx, fields: list[dict], values: dict, linked: dict, given: set) -> None:
    """Fill empty fields that name a ``source`` from the linked resident or household."""
    views: dict[str, dict] = {}
    for f in fields:
        source = f.get("source")
        if not source or (f["key"] in given and values.get(f["key"]) not in (None, "", [])):
            continue
        kind = source.split(".")[0]
        record = linked.get(kind)
        if record is None:
            continue
        if kind not in views:
            if kind == "person":
                views[kind] = person_view(ctx, record, reveal=True)
            else:
                views[kind] = {"household_number": record.household_number,
                               "address": record.address,
                               "household_type": record.household_type}  # fmt: skip
        value = views[kind].get(SOURCES[source])
        values[f["key"]] = value.isoformat() if isinstance(value, date) else value


def _store(ctx: Ctx, entry: LedgerEntry, fields: list[dict], values: dict[str, Any],
           before: dict[str, Any]) -> None:  # fmt: skip
    """Store ``values`` (all of them) on ``entry``, which held ``before``."""
    # Sync versions an entry's values key by key, so two phones filling in different
    # boxes of one entry merge instead of conflicting.
    entry.changed_keys = entry.changed_keys | {
        k for k in before.keys() | values.keys() if before.get(k) != values.get(k)
    }
    kinds = {f["key"]: f["type"] for f in fields}
    personal = {k: v for k, v in values.items() if kinds.get(k) in PERSONAL and v is not None}
    entry.data = {k: v for k, v in values.items() if kinds.get(k) not in PERSONAL}
    entry.personal_enc = (
        ctx.pii.encrypt(json.dumps(personal, ensure_ascii=False), field="ledger_entry")
        if personal
        else None
    )
    indexed = {k: _bidx(ctx, kinds[k], v) for k, v in personal.items()}
    # Loading the old keys must not flush the half-stored entry: each flush is a version.
    with ctx.session.no_autoflush:
        kept = {k.key: k for k in entry.keys}
    entry.keys = [_key_row(kept.get(k), k, bidx) for k, bidx in sorted(indexed.items())]
    entry.person_id = next((values.get(f["key"]) for f in fields if f["type"] == "person"
                            and values.get(f["key"])), None)  # fmt: skip
    entry.household_id = next((values.get(f["key"]) for f in fields if f["type"] == "household"
                               and values.get(f["key"])), None)  # fmt: skip
    first_date = next((values.get(f["key"]) for f in fields if f["type"] == "date"), None)
    entry.entry_date = (date.fromisoformat(first_date) if first_date
                        else entry.created_at.astimezone(CHINA).date())  # fmt: skip
    words = []
    for f in fields:
        value = values.get(f["key"])
        if f["type"] in _TEXT_TYPES and value:
            words.extend(value if isinstance(value, list) else [value])
            # Choices are searched by their labels too: that is what people type.
            for option in f.get("options", []):
                if option["value"] in (value if isinstance(value, list) else [value]):
                    words.append(option["label"])
    entry.search_text = "\n".join(str(w) for w in words).lower() or None


def _bidx(ctx: Ctx, kind: str, value: str) -> str:
    # The register's own blind-index fields: one ID number finds a resident and their entries.
    return ctx.pii.blind_index(value, field=kind)


def _key_row(row: LedgerEntryKey | None, key: str, bidx: str) -> LedgerEntryKey:
    row = row or LedgerEntryKey(key=key)
    row.bidx = bidx
    return row


def entry_values(ctx: Ctx, entry: LedgerEntry) -> dict[str, Any]:
    """All of an entry's values, personal ones decrypted (for exports and edits)."""
    values = dict(entry.data or {})
    if entry.personal_enc is not None:
        values.update(json.loads(ctx.pii.decrypt(entry.personal_enc, field="ledger_entry")))
    return values


def entry_view(ctx: Ctx, template: LedgerTemplate, entry: LedgerEntry, *,
               reveal: bool = False) -> dict[str, Any]:  # fmt: skip
    fields = template.fields_of(entry.template_version)
    values = entry_values(ctx, entry)
    data = {}
    for f in fields:
        value = values.get(f["key"])
        if f["type"] in PERSONAL and value and not reveal:
            value = MASKS[f["type"]](value)
        data[f["key"]] = value
    return {
        "id": entry.id,
        "ledger": template.code,
        "area": entry.area.code,
        "data": data,
        "template_version": entry.template_version,
        "version": entry.version,
        "created_by": entry.creator.username if entry.creator else None,
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "masked": not reveal,
    }


def create_entry(ctx: Ctx, code: str, body: dict[str, Any]) -> tuple[LedgerTemplate, LedgerEntry]:
    """Add an entry at the template's current version; the id may come from the device."""
    template = writable_template(ctx, code)
    record_id = client_id(body.get("id")) or new_uuid()
    if ctx.session.get(LedgerEntry, record_id) is not None:
        raise DuplicateEntryId(details={"existing_id": record_id})
    if not body.get("area"):
        raise _invalid({"area": ["请选择所属网格"]})
    area = _grid(ctx, body["area"])
    fields = template.fields_of()
    raw = body.get("data")
    if not isinstance(raw, dict):
        raise _invalid({"data": ["应为对象"]})
    # References first, so their sources can fill required fields before validation.
    ref_fields = [{**f, "required": False} for f in fields if f["type"] in ("person", "household")]
    refs = _validated(ref_fields, {f["key"]: raw[f["key"]] for f in ref_fields if f["key"] in raw},
                      partial=True)  # fmt: skip
    values = dict(raw)
    prefill(ctx, fields, values, _linked(ctx, fields, refs), set(raw))
    entry = build_entry(ctx, template, area, _validated(fields, values), record_id)
    with atomic(ctx.session, lambda: DuplicateEntryId(details={"existing_id": record_id})):
        ctx.session.add(entry)
    _link_files(ctx, entry, fields, values)
    return template, entry


def _link_files(ctx: Ctx, entry: LedgerEntry, fields: list[dict], values: dict) -> None:
    """Whoever may read the entry may open its photos and files (uploaded or still to come)."""
    hashes = [str(h).lower() for f in fields if f["type"] in ("photo", "file")
              for h in values.get(f["key"]) or []]  # fmt: skip
    set_refs(ctx.session, hashes, object_type="ledger_entry", object_id=entry.id,
             area_id=entry.area_id)  # fmt: skip


def build_entry(
    ctx: Ctx,
    template: LedgerTemplate,
    area: Area,
    values: dict[str, Any],
    entry_id: str | None = None,
) -> LedgerEntry:
    """A new entry at the template's current version from already validated values."""
    entry = LedgerEntry(
        id=entry_id or new_uuid(),
        template_id=template.id,
        template_version=template.version,
        area_id=area.id,
        created_by=ctx.actor.id if ctx.actor else None,
        version=1,
    )
    entry.area = area
    entry.created_at = entry.updated_at = utcnow()
    _store(ctx, entry, template.fields_of(), values, {})
    return entry


def get_entry(ctx: Ctx, code: str, entry_id: str) -> tuple[LedgerTemplate, LedgerEntry]:
    template = get_template(ctx, code, archived=True)
    entry = ctx.session.get(LedgerEntry, entry_id)
    if entry is None or entry.template_id != template.id or not ctx.scope.allows(entry.area_id):
        raise EntryNotFound(details={"id": entry_id})
    return template, entry


def reveal_entry(ctx: Ctx, code: str, entry_id: str) -> dict[str, Any]:
    """An entry with ID numbers and phones in full, with an audit entry saying who looked."""
    template, entry = get_entry(ctx, code, entry_id)
    audit.record(ctx.session, ctx.actor, "ledger.entry_reveal", object_type="ledger_entry",
                 object_id=entry.id, details={"ledger": code})  # fmt: skip
    return entry_view(ctx, template, entry, reveal=True)


def update_entry(ctx: Ctx, code: str, entry_id: str, body: dict[str, Any],
                 expected_version: int | None) -> tuple[LedgerTemplate, LedgerEntry]:  # fmt: skip
    """Change some values (and or the grid), validated against the entry's own version."""
    template, entry = get_entry(ctx, code, entry_id)
    if template.kind != "entries":
        raise TemplateReadOnly(details={"code": code})
    check_version(entry.version, expected_version)
    fields = template.fields_of(entry.template_version)
    changes = body.get("data") or {}
    if not isinstance(changes, dict):
        raise _invalid({"data": ["应为对象"]})
    validated = _validated(fields, changes, partial=True)
    _linked(ctx, fields, validated)
    area = _grid(ctx, body["area"]) if body.get("area") else entry.area
    before = entry_values(ctx, entry)
    merged = {**before, **validated}
    with atomic(ctx.session, lambda: EntryNotFound(details={"id": entry_id})):
        entry.area, entry.area_id = area, area.id
        _store(ctx, entry, fields, merged, before)
        entry.updated_at = utcnow()
    _link_files(ctx, entry, fields, merged)
    return template, entry


def delete_entry(ctx: Ctx, code: str, entry_id: str, expected_version: int | None) -> None:
    template, entry = get_entry(ctx, code, entry_id)
    check_version(entry.version, expected_version)
    audit.record(ctx.session, ctx.actor, "ledger.entry_delete", object_type="ledger_entry",
                 object_id=entry.id, details={"ledger": template.code, "version": entry.version,
                                              "area": entry.area.code})  # fmt: skip
    with atomic(ctx.session, lambda: EntryNotFound(details={"id": entry_id})):
        ctx.session.delete(entry)
    set_refs(ctx.session, [], object_type="ledger_entry", object_id=entry.id, area_id=None)


@dataclass
class EntryFilter:
    area: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: str | None = None
    values: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EntrySort:
    """An order for a ledger's list: an entry column (``updated_at``) or ``data.<field key>``."""

    key: str
    descending: bool = False

    @classmethod
    def parse(cls, text: str | None) -> EntrySort | None:
        """``-updated_at``, ``data.visit_date``...; None for the default order (newest first on
        the ledger's date), whose cursors stay those of the plain keyset page."""
        text = (text or "").strip()
        if not text or text == "-entry_date":
            return None
        return cls(text.removeprefix("-"), text.startswith("-"))

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key


def list_views(
    ctx: Ctx,
    code: str,
    filters: EntryFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    sort: EntrySort | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of a ledger as the API shows it; 实有人口台账 is read from the register."""
    template = get_template(ctx, code, archived=True)
    if template.kind == "registry":
        if sort is not None:
            raise _invalid({"sort": ["实有人口台账按登记时间倒序排列，不能改变排序"]})
        return _register_page(ctx, template, filters, limit, cursor)
    rows, next_cursor = _entry_page(ctx, template, filters, limit, cursor, sort)
    return [entry_view(ctx, template, e) for e in rows], next_cursor


def _register_page(ctx, template, filters: EntryFilter, limit, cursor):
    from ledger.registry.people import PeopleFilter, list_people

    if filters.values or filters.date_from or filters.date_to:
        message = "实有人口台账只能按区域和姓名筛选"
        raise _invalid({"q": [message]})
    people, next_cursor = list_people(
        ctx, PeopleFilter(area=filters.area, name=filters.q), limit=limit, cursor=cursor
    )
    keys = [f["key"] for f in template.fields_of()]
    items = []
    for person in people:
        view = person_view(ctx, person)
        data = {k: view.get(k) for k in keys}
        data["tags"] = "、".join(view["tags"]) or None
        data["birth_date"] = view["birth_date"].isoformat() if view["birth_date"] else None
        items.append({
            "id": person.id, "ledger": template.code, "area": view["area"], "data": data,
            "template_version": template.version, "version": person.version,
            "created_by": view["created_by"], "created_at": person.created_at,
            "updated_at": person.updated_at, "masked": True,
        })  # fmt: skip
    return items, next_cursor


def _entry_page(ctx, template, filters: EntryFilter, limit, cursor, sort: EntrySort | None):
    """Newest first (or in ``sort``'s order), keyset-paginated."""
    keys = _sort_keys(template, sort) if sort is not None else None
    query = entry_query(ctx, template, filters)
    if query is None:
        return [], None
    if keys is None:
        return newest_first_page(ctx.session, query, LedgerEntry, limit, cursor, PAGE_KEYS)
    return _sorted_page(ctx, query, sort, keys, limit, cursor)


# One key of a sorted page: the expression, whether it runs descending, and how its cursor
# value is typed ("datetime", "date", "float", "int" or "str").
_SortKey = tuple[Any, bool, str]


def _sort_keys(template: LedgerTemplate, sort: EntrySort) -> list[_SortKey]:
    """The keys a sorted page orders and pages on, the entry id last so every row has its own
    place. A field's empty values come last either way: a flag key sorts them apart, so the
    value key itself never holds NULL (row comparisons with NULL match nothing)."""
    desc = sort.descending
    if sort.key in SORT_COLUMNS:
        column = getattr(LedgerEntry, sort.key)
        keys = [(column, desc, SORT_COLUMNS[sort.key])]
        if sort.key == "entry_date":
            keys.append((LedgerEntry.created_at, desc, "datetime"))
        return [*keys, (LedgerEntry.id, desc, "str")]
    kinds = {f["key"]: f["type"] for f in all_fields(template)}
    key = sort.key.removeprefix("data.")
    if not sort.key.startswith("data.") or kinds.get(key) not in SORTABLE_TYPES:
        raise EntryInvalid("不能按该项排序", details={"fields": {"sort": ["不能按该项排序"]}})
    if kinds[key] in ("integer", "decimal"):
        # Decimals are stored as text: compare them as numbers, not as strings ("10" < "9").
        value, blank, kind = cast(LedgerEntry.data[key].as_string(), Float), 0.0, "float"
    else:
        # ISO dates and times (all at +08:00) sort correctly as text.
        value, blank, kind = LedgerEntry.data[key].as_string(), "", "str"
    empty = case((value.is_(None), 1), else_=0)
    return [(empty, False, "int"), (func.coalesce(value, blank), desc, kind),
            (LedgerEntry.id, desc, "str")]  # fmt: skip


def _sorted_page(ctx, query, sort: EntrySort, keys: list[_SortKey], limit, cursor):
    if cursor:
        after = _decode_sort_cursor(cursor, sort, keys)
        # (k1 > v1) or (k1 = v1 and k2 > v2) or ...: each key in its own direction.
        steps = []
        for i, (expr, desc, _kind) in enumerate(keys):
            same = [k[0] == v for k, v in zip(keys[:i], after[:i], strict=True)]
            steps.append(and_(*same, expr < after[i] if desc else expr > after[i]))
        query = query.where(or_(*steps))
    order = [expr.desc() if desc else expr.asc() for expr, desc, _kind in keys]
    columns = [expr.label(f"k{i}") for i, (expr, _d, _k) in enumerate(keys)]
    rows = ctx.session.execute(query.add_columns(*columns).order_by(*order).limit(limit + 1)).all()
    entries = [row[0] for row in rows]
    next_cursor = None
    if len(rows) > limit:
        entries = entries[:limit]
        next_cursor = _encode_sort_cursor(sort, list(rows[limit - 1][1:]))
    return entries, next_cursor


def _encode_sort_cursor(sort: EntrySort, values: list[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, date | datetime) else v for v in values]
    raw = json.dumps([str(sort), *plain]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_sort_cursor(cursor: str, sort: EntrySort, keys: list[_SortKey]) -> list[Any]:
    """The cursor's values, typed for comparison; a cursor of another order is refused."""
    parse = {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "float": float,
             "int": int, "str": str}  # fmt: skip
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(keys) + 1 or raw[0] != str(sort):
            raise ValueError("cursor shape")
        return [parse[kind](v) for (_e, _d, kind), v in zip(keys, raw[1:], strict=True)]
    except (ValueError, TypeError):
        message = "分页游标无效，请从第一页重新加载"
        raise EntryInvalid(message, details={"fields": {"cursor": [message]}}) from None


def entry_query(ctx: Ctx, template: LedgerTemplate, filters: EntryFilter) -> Select | None:
    """The entries a list or export shows: by grid (or a subtree), the first date field, any
    plain field's value, and text anywhere in the entry. None if the area is out of scope."""
    query = select(LedgerEntry).where(
        LedgerEntry.template_id == template.id, ctx.scope.filter(LedgerEntry.area_id)
    )
    if filters.area:
        area = ctx.session.scalar(select(Area).where(Area.code == filters.area))
        if area is None or not ctx.scope.allows(area.id):
            return None
        subtree = select(Area.id).where(Area.path.startswith(area.path))
        query = query.where(LedgerEntry.area_id == area.id if area.level == "grid"
                            else LedgerEntry.area_id.in_(subtree))  # fmt: skip
    if filters.date_from:
        query = query.where(LedgerEntry.entry_date >= filters.date_from)
    if filters.date_to:
        query = query.where(LedgerEntry.entry_date <= filters.date_to)
    if filters.q and filters.q.strip():
        query = query.where(
            LedgerEntry.search_text.contains(filters.q.strip().lower(), autoescape=True)
        )
    kinds = {f["key"]: f for f in all_fields(template)}
    errors = {}
    for key, wanted in filters.values.items():
        f = kinds.get(key)
        if f is None or f["type"] in ("file", "photo", "location"):
            errors[key] = ["该字段不能用于筛选"]
            continue
        column = LedgerEntry.data[key]
        if f["type"] in PERSONAL:
            # Exact match on the blind index: the number itself is never stored in clear.
            bidx = _bidx(ctx, f["type"], _filter_value(f, wanted))
            found = select(LedgerEntryKey.entry_id).where(
                LedgerEntryKey.key == key, LedgerEntryKey.bidx == bidx
            )
            query = query.where(LedgerEntry.id.in_(found))
        elif f["type"] == "multichoice":
            value = _filter_value(f, wanted)
            query = query.where(cast(column, String).contains(json.dumps(value), autoescape=True))
        elif f["type"] in ("integer", "boolean"):
            query = query.where(cast(column, String) == json.dumps(_filter_value(f, wanted)))
        else:
            query = query.where(column.as_string() == _filter_value(f, wanted))
    if errors:
        raise _invalid(errors)
    return query


def _filter_value(f: dict, wanted: str) -> Any:
    """A filter's text as the stored value (a choice's label is taken as its value)."""
    try:
        return validate_data([{**f, "required": False}], {f["key"]: wanted})[f["key"]]
    except ma.ValidationError as exc:
        raise _invalid({f["key"]: exc.messages.get(f["key"], ["格式不正确"])}) from None


def summary(ctx: Ctx, code: str, area: str | None = None) -> dict[str, Any]:
    """Counts of a ledger's entries in the caller's areas: in all, by grid, and by month of
    each date field (any version's)."""
    template = get_template(ctx, code, archived=True)
    if template.kind != "entries":
        raise TemplateReadOnly("实有人口台账请在居民列表中查看", details={"code": code})
    scope = [LedgerEntry.template_id == template.id, ctx.scope.filter(LedgerEntry.area_id)]
    if area:
        found = ctx.session.scalar(select(Area).where(Area.code == area))
        if found is None or not ctx.scope.allows(found.id):
            raise EntryNotFound("区域不存在或不在您负责的范围内", details={"area": area})
        scope.append(
            LedgerEntry.area_id.in_(select(Area.id).where(Area.path.startswith(found.path)))
        )
    by_area = ctx.session.execute(
        select(Area.code, Area.name, func.count())
        .join(LedgerEntry, LedgerEntry.area_id == Area.id)
        .where(*scope)
        .group_by(Area.code, Area.name)
        .order_by(Area.code)
    ).all()
    by_month: dict[str, list[dict[str, Any]]] = {}
    for f in all_fields(template):
        if f["type"] not in ("date", "datetime"):
            continue
        month = func.substr(LedgerEntry.data[f["key"]].as_string(), 1, 7)
        rows = ctx.session.execute(
            select(month, func.count())
            .where(*scope, month.is_not(None))
            .group_by(month)
            .order_by(month)
        ).all()
        by_month[f["key"]] = [{"month": m, "count": n} for m, n in rows if m]
    return {
        "ledger": template.code,
        "total": sum(n for _, _, n in by_area),
        "by_area": [{"area": c, "name": name, "count": n} for c, name, n in by_area],
        "by_month": by_month,
    }

"""Console ledger pages: the ledgers, a ledger's entries (filters, sorting by column, pages of
25) and the create and edit forms generated from a template's fields."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ledger.areas.operations import visible_areas
from ledger.errors import LedgerError, VersionMismatch
from ledger.files.operations import store_upload
from ledger.files.sniff import ALLOWED_UPLOAD_TYPES, IMAGE_UPLOAD_TYPES
from ledger.ledgers import entries as ops
from ledger.ledgers.errors import EntryInvalid
from ledger.ledgers.fields import CHINA, PERSONAL, labels_of, validate_data
from ledger.ledgers.models import LedgerEntry
from ledger.ledgers.templates import get_template, list_templates
from ledger.registry.households import list_households
from ledger.registry.models import Household, Person
from ledger.registry.people import PeopleFilter, list_people
from server.auth.permissions import check
from server.console import bp, page_url
from server.console.forms import field_messages, visible_grids
from server.errors import ApiError
from server.uploads import ingest_part
from server.wiring import ctx

PAGE_SIZE = 25
# The table shows the first few short fields: what people scan a ledger by.
MAX_COLUMNS = 6
NOT_IN_TABLE = frozenset({"longtext", "person", "household", "photo", "file", "location"})
# The first click on these columns shows the newest first; on the others, A to Z.
NEWEST_FIRST = frozenset({"date", "datetime"})
FILTER_KEYS = ("area", "date_from", "date_to", "q")
# Values kept as typed when a form comes back with errors; the rest are not text inputs.
REFERENCES = frozenset({"person", "household"})


# ----------------------------------------------------------------- shared with ledger_jobs


def list_filters(args) -> tuple[dict[str, str], dict[str, str]]:
    """The list's filters in a query string or form: (area, dates, text) and ``data.<key>``."""
    plain = {k: args.get(k, "").strip() for k in FILTER_KEYS}
    values = {k[5:]: v.strip() for k, v in args.items()
              if k.startswith("data.") and k[5:] and v.strip()}  # fmt: skip
    return {k: v for k, v in plain.items() if v}, values


def field_errors(exc: LedgerError | ApiError) -> dict[str, list[str]]:
    return field_messages((exc.details or {}).get("fields") or {})


# ----------------------------------------------------------------- the ledgers


@bp.route("/ledgers")
def ledgers():
    """The ledgers (台账), each with its number of entries in your areas and the latest change"""
    check("ledgers.read")
    c = ctx()
    stats = {
        template_id: (count, last)
        for template_id, count, last in c.session.execute(
            select(LedgerEntry.template_id, func.count(), func.max(LedgerEntry.updated_at))
            .where(c.scope.filter(LedgerEntry.area_id))
            .group_by(LedgerEntry.template_id)
        )
    }
    # 实有人口台账 is the register itself: its entries are the residents.
    people = c.session.execute(
        select(func.count(), func.max(Person.updated_at)).where(c.scope.filter(Person.area_id))
    ).one()
    items = []
    for t in list_templates(c):
        count, last = tuple(people) if t.kind == "registry" else stats.get(t.id, (0, None))
        items.append({"code": t.code, "name": t.name, "description": t.description,
                      "kind": t.kind, "count": count, "last": last})  # fmt: skip
    return render_template("console/ledgers.html", items=items)


# ----------------------------------------------------------------- a ledger's entries


def _columns(fields: list[dict]) -> list[dict]:
    return [f for f in fields if f["type"] not in NOT_IN_TABLE][:MAX_COLUMNS]


def shown_value(f: dict, value: Any) -> str:
    """A value as a person reads it: choices by label, 是/否, times on Beijing time."""
    if value in (None, "", []):
        return "—"
    kind = f["type"]
    if kind in ("choice", "multichoice"):
        value = labels_of(f, value)
        return "、".join(value) if isinstance(value, list) else str(value)
    if kind == "boolean":
        return "是" if value else "否"
    if kind == "datetime":
        try:
            return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        except (TypeError, ValueError):
            return str(value)
    if kind in ("photo", "file"):
        return f"{len(value)} 个"
    if kind == "location" and isinstance(value, dict):
        return f"{value.get('lat')}, {value.get('lon')}"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return str(value)


def _sort_key(f: dict, first_date: str | None) -> str | None:
    if f["key"] == first_date:
        return "entry_date"  # the same order, on the indexed column
    return f"data.{f['key']}" if f["type"] in ops.SORTABLE_TYPES else None


def _sort_link(key: str, current: str, newest_first: bool) -> dict[str, str]:
    """The header link: the other direction if the column is the current order."""
    if current == key:
        following, state = f"-{key}", "ascending"
    elif current == f"-{key}":
        following, state = key, "descending"
    else:
        following, state = (f"-{key}" if newest_first else key), ""
    # The default order keeps the plain URL (and the cursors every other list uses).
    sort = None if following == "-entry_date" else following
    return {"url": page_url(sort=sort, cursor=None), "state": state}


def _parse_dates(plain: dict[str, str]) -> dict[str, date | None]:
    out, errors = {}, {}
    for key in ("date_from", "date_to"):
        try:
            out[key] = date.fromisoformat(plain[key]) if plain.get(key) else None
        except ValueError:
            errors[key] = ["日期格式应为 YYYY-MM-DD"]
    if errors:
        raise EntryInvalid("筛选日期格式不正确", details={"fields": errors})
    return out


@bp.route("/ledgers/<string:code>")
def ledger(code: str):
    """A ledger's entries in your areas: filters, sorting by column header, 25 a page"""
    check("ledgers.read")
    c = ctx()
    template = get_template(c, code, archived=True)
    fields = template.fields_of()
    columns = _columns(fields)
    first_date = next((f["key"] for f in fields if f["type"] == "date"), None)
    plain, values = list_filters(request.args)
    current = request.args.get("sort") or "-entry_date"
    error, errors, items, next_cursor, status = None, {}, [], None, 200
    try:
        dates = _parse_dates(plain)
        filters = ops.EntryFilter(area=plain.get("area"), q=plain.get("q"), values=values,
                                  **dates)  # fmt: skip
        items, next_cursor = ops.list_views(c, code, filters, limit=PAGE_SIZE,
                                            cursor=request.args.get("cursor") or None,
                                            sort=ops.EntrySort.parse(current))  # fmt: skip
    except LedgerError as exc:
        error, errors, status = exc.message, field_errors(exc), 422
    areas = visible_areas(c.session, c.scope)
    names = {a.code: a.name for a in areas}
    registry = template.kind == "registry"
    rows = [{"id": e["id"], "area": names.get(e["area"], e["area"]), "updated_at": e["updated_at"],
             "cells": [shown_value(f, e["data"].get(f["key"])) for f in columns]}
            for e in items]  # fmt: skip
    sorts = {}
    if not registry:
        for f in columns:
            key = _sort_key(f, first_date)
            if key:
                sorts[f["key"]] = _sort_link(key, current, f["type"] in NEWEST_FIRST)
        sorts["updated_at"] = _sort_link("updated_at", current, True)
    choices = [f for f in fields if f["type"] in ("choice", "multichoice")][:3]
    return render_template(
        "console/ledger_entries.html", template=template, columns=columns, rows=rows,
        next_cursor=next_cursor, sorts=sorts, choices=choices, areas=areas, registry=registry,
        filters={**plain, **{f"data.{k}": v for k, v in values.items()}}, error=error,
        errors=errors, date_label=next((f["label"] for f in fields if f["key"] == first_date),
                                       "日期"),
        export_args={**plain, **{f"data.{k}": v for k, v in values.items()}},
    ), status  # fmt: skip


# ----------------------------------------------------------------- entry forms


def _find_record(c, kind: str, typed: str) -> str | None:
    """The resident (by ID number) or household (by its number) a form names, in scope."""
    if kind == "person":
        found, _ = list_people(c, PeopleFilter(id_number=typed), limit=1)
    else:
        found, _ = list_households(c, household_number=typed, limit=1)
    return found[0].id if found else None


def _store_files(c, key: str, kind: str) -> list[str]:
    hashes = []
    for part in request.files.getlist(f"f.{key}"):
        if not part or not part.filename:
            continue
        upload = ingest_part(part, key)
        with upload:
            stored = store_upload(c, upload, filename=part.filename, declared_type=part.mimetype,
                                  allowed=IMAGE_UPLOAD_TYPES if kind == "photo"
                                  else ALLOWED_UPLOAD_TYPES)  # fmt: skip
        hashes.append(stored.sha256)
    return hashes


def _read_form(c, fields: list[dict], *, editing: bool):
    """(data for the domain, values to show again, errors found before the domain sees it).

    On an edit, ID numbers, phones and links left blank are kept as they are: the form never
    holds them in full, so blank means "unchanged"."""
    form = request.form
    data: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in fields:
        key, kind, name = f["key"], f["type"], f"f.{f['key']}"
        if kind == "multichoice":
            shown[key] = data[key] = form.getlist(name)
        elif kind == "boolean":
            shown[key] = data[key] = form.get(name) == "1"
        elif kind in ("photo", "file"):
            kept = form.getlist(f"keep.{key}")
            try:
                added = _store_files(c, key, kind)
            except (LedgerError, ApiError) as exc:
                errors[key], added = [exc.message], []
            shown[key] = data[key] = kept + added
        elif kind == "location":
            lat, lon = (form.get(f"{name}.{k}", "").strip() for k in ("lat", "lon"))
            shown[key] = {"lat": lat, "lon": lon}
            data[key] = None
            if lat or lon:
                try:
                    data[key] = {"lat": float(lat), "lon": float(lon)}
                except ValueError:
                    errors[key] = ["请填写数字形式的纬度和经度"]
        elif kind in REFERENCES or kind in PERSONAL:
            typed = form.get(name, "").strip()
            shown[key] = typed
            if kind in REFERENCES and typed:
                data[key] = _find_record(c, kind, typed)
                if data[key] is None:
                    what = "身份证号的居民" if kind == "person" else "户编号"
                    errors[key] = [f"没有找到该{what}，或不在您负责的网格内"]
            elif typed or not editing:
                data[key] = typed
        else:
            shown[key] = data[key] = form.get(name, "")
    return data, shown, errors


def _check_rest(fields: list[dict], data: dict, errors: dict, *, partial: bool) -> None:
    """Add the domain's errors for the values not yet in ``errors``: a form with one problem
    found early still says everything else that is wrong, not one problem per round trip."""
    by_key = {f["key"]: f for f in fields}
    linked = any(data.get(f["key"]) for f in fields if f["type"] in REFERENCES)
    rest = {k: v for k, v in data.items() if k not in errors}
    try:
        validate_data([by_key[k] for k in rest], rest, partial=partial)
    except ma.ValidationError as exc:
        for key, messages in (exc.messages if isinstance(exc.messages, dict) else {}).items():
            # A linked resident or household fills the fields with a source on saving.
            if not (linked and by_key.get(key, {}).get("source") and messages == ["必填"]):
                errors[key] = list(messages)


def _initial(c, fields: list[dict], view: dict) -> tuple[dict[str, Any], dict[str, str]]:
    """An entry's values as its form shows them, and hints for what the form leaves blank."""
    shown: dict[str, Any] = {}
    hints: dict[str, str] = {}
    for f in fields:
        key, kind = f["key"], f["type"]
        value = view["data"].get(key)
        if kind in PERSONAL:
            shown[key] = ""
            if value:
                hints[key] = f"现为 {value}，留空则不修改"
        elif kind in REFERENCES:
            shown[key] = ""
            record = c.session.get(Person if kind == "person" else Household, value or "")
            if record is not None and c.scope.allows(record.area_id):
                label = record.name if kind == "person" else record.household_number
                hints[key] = f"已关联：{label}；留空则不修改"
        elif kind == "datetime" and value:
            shown[key] = datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%dT%H:%M")
        elif kind == "location" and isinstance(value, dict):
            shown[key] = {"lat": value.get("lat", ""), "lon": value.get("lon", "")}
        elif kind in ("multichoice", "photo", "file"):
            shown[key] = value or []
        elif kind == "boolean":
            shown[key] = bool(value)
        else:
            shown[key] = "" if value is None else str(value)
    return shown, hints


def _form_page(template, fields, *, entry=None, shown=None, hints=None, errors=None,
               message=None, conflict=None, area=None, status=200):  # fmt: skip
    c = ctx()
    return render_template(
        "console/ledger_entry_form.html", template=template, fields=fields, entry=entry,
        shown=shown or {}, hints=hints or {}, errors=errors or {}, message=message,
        conflict=conflict, area=area, grids=visible_grids(c),
        other_errors={k: v for k, v in (errors or {}).items()
                      if k not in {f["key"] for f in fields} and k != "area"},
    ), status  # fmt: skip


@bp.route("/ledgers/<string:code>/new", methods=["GET", "POST"])
def new_entry(code: str):
    """A new entry, on a form generated from the ledger's fields"""
    check("ledgers.write")
    c = ctx()
    template = ops.writable_template(c, code)
    fields = template.fields_of()
    choices = visible_grids(c)
    area = request.form.get("area", "") or (choices[0].code if len(choices) == 1 else "")
    if request.method == "GET":
        return _form_page(template, fields, area=area)
    data, shown, errors = _read_form(c, fields, editing=False)
    if not area:
        errors["area"] = ["请选择所属网格"]
    message = None
    if errors:
        _check_rest(fields, data, errors, partial=False)
    else:
        try:
            ops.create_entry(c, code, {"area": area, "data": data})
        except LedgerError as exc:
            errors, message = field_errors(exc), exc.message
        else:
            flash("已新增一条记录")
            return redirect(url_for("console.ledger", code=code))
    return _form_page(template, fields, shown=shown, errors=errors, area=area,
                      message=message or "填写有误，请按提示修改", status=422)  # fmt: skip


@bp.route("/ledgers/<string:code>/entries/<string:entry_id>", methods=["GET", "POST"])
def entry(code: str, entry_id: str):
    """An entry's form: read it, and change it if you may (against the version you opened)"""
    check("ledgers.read")
    c = ctx()
    template, found = ops.get_entry(c, code, entry_id)
    fields = template.fields_of(found.template_version)
    view = ops.entry_view(c, template, found)
    shown, hints = _initial(c, fields, view)
    if request.method == "GET":
        return _form_page(template, fields, entry=view, shown=shown, hints=hints,
                          area=view["area"])  # fmt: skip
    check("ledgers.write")
    area = request.form.get("area") or view["area"]
    version = request.form.get("version", "")
    data, typed, errors = _read_form(c, fields, editing=True)
    shown.update(typed)
    message, conflict, status = None, None, 422
    if errors:
        _check_rest(fields, data, errors, partial=True)
    else:
        try:
            ops.update_entry(c, code, entry_id, {"area": area, "data": data},
                             int(version) if version.isdigit() else None)  # fmt: skip
        except VersionMismatch:
            conflict, status = "这条记录已被其他人修改，您的修改未保存。请重新打开后再修改。", 409
        except LedgerError as exc:
            errors, message = field_errors(exc), exc.message
        else:
            flash("已保存修改")
            return redirect(url_for("console.ledger", code=code))
    if errors:
        message = message or "填写有误，请按提示修改"
    return _form_page(template, fields, entry={**view, "version": version or view["version"]},
                      shown=shown, hints=hints, errors=errors, message=message,
                      conflict=conflict, area=area, status=status)  # fmt: skip


@bp.route("/ledgers/<string:code>/entries/<string:entry_id>/delete", methods=["POST"])
def delete_entry(code: str, entry_id: str):
    """Delete an entry, after the page asked to confirm (audited)"""
    check("ledgers.delete")
    version = request.form.get("version", "")
    ops.delete_entry(ctx(), code, entry_id, int(version) if version.isdigit() else None)
    flash("已删除该记录")
    return redirect(url_for("console.ledger", code=code))

"""Console pages of the register: find residents, a resident's page (audited reveal, edit,
delete), registering a resident, and households with their members."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import marshmallow as ma
from flask import flash, g, jsonify, make_response, redirect, render_template, request, url_for
from sqlalchemy import func, select

from ledger.areas.models import LEVELS
from ledger.areas.operations import visible_areas
from ledger.context import Ctx
from ledger.errors import LedgerError
from ledger.registry import households as household_ops
from ledger.registry import people as ops
from ledger.registry.errors import DuplicateIdNumber
from ledger.registry.households import HOUSEHOLD_NUMBER_RE
from ledger.registry.idnumber import check_digit
from ledger.registry.models import DocumentScan, Household, Person, PersonTag
from ledger.registry.models.person import RESIDENCE_TYPES, SEXES
from server.auth.permissions import check
from server.console import bp, wants_json
from server.console.forms import field_messages, visible_grids
from server.errors import KIND_STATUS, ApiError
from server.resources.people.schemas import PersonCreateSchema, PersonUpdateSchema
from server.wiring import ctx

PAGE_SIZE = 25
# Plain text fields of the resident form, sent as the API's JSON would carry them.
TEXT_FIELDS = ("name", "sex", "ethnicity", "birth_date", "registered_address", "current_address",
               "residence_type", "relationship_to_head", "notes", "area")  # fmt: skip
# Shown masked, so never pre-filled: on an edit a blank box means "leave as it is".
SECRET_FIELDS = ("id_number", "phone")
ID_NUMBER_RE = re.compile(r"\d{17}[0-9X]|\d{15}")
MOBILE_RE = re.compile(r"1\d{10}")


def private(response, status: int = 200):
    """Pages that carry full ID numbers or phones must stay out of every cache."""
    response = make_response(response, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def search_filter(q: str) -> dict[str, str]:
    """What the one search box means: an ID number, a mobile number, or the start of a name."""
    # Numbers are often typed with full-width digits or spaces from a copied document.
    compact = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", q)).upper()
    if ID_NUMBER_RE.fullmatch(compact):
        if len(compact) == 15:
            # A first-generation card: the register only holds the 18-digit form of it.
            first17 = f"{compact[:6]}19{compact[6:]}"
            compact = first17 + check_digit(first17)
        return {"id_number": compact}
    if MOBILE_RE.fullmatch(compact):
        return {"phone": compact}
    return {"name": q.strip()} if q.strip() else {}


def area_options(c: Ctx) -> list[dict[str, Any]]:
    """The areas the user may filter by, indented under their parents."""
    return [{"code": a.code, "name": a.name, "level": a.level, "depth": LEVELS.index(a.level)}
            for a in visible_areas(c.session, c.scope)]  # fmt: skip


def own_grid() -> str | None:
    area = g.user.area
    return area.code if area is not None and area.level == "grid" else None


def form_data(form) -> dict[str, Any]:
    """The resident fields a form sent, blank boxes as None and tags as a list."""
    data: dict[str, Any] = {}
    for key in TEXT_FIELDS + SECRET_FIELDS:
        if key in form:
            data[key] = form[key].strip() or None
    if "tags" in form:
        data["tags"] = [t for t in re.split(r"[,，、;；\s]+", form["tags"]) if t]
    return data


def load(schema: type[ma.Schema], data: dict[str, Any]) -> dict[str, Any]:
    """Validate with the API's own schema, so the console accepts exactly what the API does."""
    return schema().load(data)


def form_errors(c: Ctx, exc: Exception) -> tuple[int, str, dict[str, list[str]]]:
    """Status, message and per-field messages of a failed save, for the form to show."""
    if isinstance(exc, ma.ValidationError):
        fields = exc.messages if isinstance(exc.messages, dict) else {"": exc.messages}
        return 422, "提交的数据有误，请按提示修改", field_messages(fields)
    if isinstance(exc, LedgerError):
        fields = field_messages(exc.details.get("fields") or {})
        if isinstance(exc, DuplicateIdNumber):
            fields.setdefault("id_number", []).append(exc.message)
        return KIND_STATUS.get(exc.kind, 400), exc.message, fields
    raise exc


def duplicate_of(c: Ctx, exc: Exception) -> Person | None:
    """The resident a duplicate ID number belongs to, if the user may open them."""
    if not isinstance(exc, DuplicateIdNumber):
        return None
    person = c.session.get(Person, exc.details.get("existing_id"))
    return person if person is not None and c.scope.allows(person.area_id) else None


def form_version(required: bool = True) -> int | None:
    raw = request.form.get("version", "")
    if raw.isdigit():
        return int(raw)
    if required:
        raise ApiError(428, "precondition_required", "页面缺少记录版本，请刷新后再保存")
    return None


def _visible_households(c: Ctx, ids) -> dict[str, Household]:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    rows = c.session.scalars(
        select(Household).where(Household.id.in_(ids), c.scope.filter(Household.area_id))
    )
    return {h.id: h for h in rows}


def _tag_options(c: Ctx) -> list[str]:
    # The most used tags in the user's areas; a deployment has a few dozen at most.
    return list(
        c.session.scalars(
            select(PersonTag.tag)
            .join(Person, Person.id == PersonTag.person_id)
            .where(c.scope.filter(Person.area_id))
            .group_by(PersonTag.tag)
            .order_by(func.count().desc(), PersonTag.tag)
            .limit(60)
        )
    )


@bp.route("/people")
def people():
    """Residents in your areas: find by name, ID number or phone; filter by grid and tag"""
    check("people.read")
    c = ctx()
    q = request.args.get("q", "")
    search = search_filter(q)
    filters = ops.PeopleFilter(area=request.args.get("area") or None,
                               tag=request.args.get("tag") or None, **search)  # fmt: skip
    rows, next_cursor = ops.list_people(c, filters, limit=PAGE_SIZE,
                                        cursor=request.args.get("cursor") or None)  # fmt: skip
    households = _visible_households(c, (p.household_id for p in rows))
    items = [{**ops.person_view(c, p), "area_name": p.area.name,
              "household": households.get(p.household_id)} for p in rows]  # fmt: skip
    searching = bool(search or filters.area or filters.tag)
    html = render_template("console/people.html", items=items, next_cursor=next_cursor, q=q,
                           area=filters.area, tag=filters.tag, areas=area_options(c),
                           tags=_tag_options(c), searching=searching)  # fmt: skip
    # The search box echoes what was typed back: an ID number or phone must not be cached.
    if "id_number" in search or "phone" in search:
        return private(html)
    return html


def _form_values(view: dict[str, Any]) -> dict[str, str]:
    """A resident's view as the edit form shows it (ID number and phone left blank)."""
    values = {k: "" if view.get(k) is None else str(view[k]) for k in TEXT_FIELDS}
    values["tags"] = "、".join(view.get("tags") or [])
    return values


def _person_page(c: Ctx, person: Person, view: dict[str, Any] | None = None, *,
                 values=None, errors=None, error=None, existing=None) -> str:  # fmt: skip
    view = view or ops.person_view(c, person)
    household = _visible_households(c, [person.household_id]).get(person.household_id)
    members = []
    if household is not None:
        members = [m for m in household_ops.household_members(c, household) if m.id != person.id]
    scans = list(
        c.session.scalars(
            select(DocumentScan)
            .where(DocumentScan.person_id == person.id)
            .order_by(DocumentScan.created_at.desc())
            .limit(12)
        )
    )
    return render_template("console/person.html", p=view, person=person, household=household,
                           members=members, scans=scans, grids=visible_grids(c),
                           values=values or _form_values(view), errors=errors or {},
                           error=error, existing=existing, sexes=SEXES,
                           residence_types=RESIDENCE_TYPES)  # fmt: skip


@bp.route("/people/<string:person_id>")
def person(person_id: str):
    """One resident, ID number and phone masked; edit, reveal and delete as the role allows"""
    check("people.read")
    c = ctx()
    return _person_page(c, ops.get_person(c, person_id))


@bp.route("/people/<string:person_id>/reveal", methods=["POST"])
def person_reveal(person_id: str):
    """Show a resident's full ID number and phone (audited, never cached)"""
    check("people.reveal")
    c = ctx()
    view = ops.reveal_person(c, person_id)
    if wants_json():
        return private(jsonify({"id": view["id"], "id_number": view["id_number"],
                                "phone": view["phone"]}))  # fmt: skip
    return private(_person_page(c, ops.get_person(c, person_id), view))


def _changes(view: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Only what the user changed: an edit must not rewrite (and re-check) untouched fields."""
    changes = {}
    for key, value in data.items():
        if key in SECRET_FIELDS:
            if value is not None:
                changes[key] = value
            continue
        current = view.get(key)
        if key == "tags":
            current = list(current or [])
        elif current is not None:
            current = str(current)
        if value != current:
            changes[key] = value
    return changes


@bp.route("/people/<string:person_id>/edit", methods=["POST"])
def person_update(person_id: str):
    """Save the edit form of a resident, against the version the form was made from"""
    check("people.write")
    c = ctx()
    found = ops.get_person(c, person_id)
    view = ops.person_view(c, found)
    version = form_version()
    try:
        changes = load(PersonUpdateSchema, _changes(view, form_data(request.form)))
        ops.update_person(c, person_id, changes, version)
    except (ma.ValidationError, LedgerError) as exc:
        status, message, errors = form_errors(c, exc)
        values = {**_form_values(view), **request.form.to_dict()}
        html = _person_page(c, found, view, values=values, errors=errors, error=message,
                            existing=duplicate_of(c, exc))  # fmt: skip
        return private(html, status)
    flash("已保存")
    return redirect(url_for("console.person", person_id=person_id))


@bp.route("/people/<string:person_id>/delete", methods=["POST"])
def person_delete(person_id: str):
    """Remove a resident from the register (audited)"""
    check("people.delete")
    c = ctx()
    name = ops.get_person(c, person_id).name
    ops.delete_person(c, person_id, form_version(required=False))
    flash(f"已删除居民 {name}")
    return redirect(url_for("console.people"))


@bp.route("/people/new", methods=["GET", "POST"])
def person_new():
    """Register a resident by hand, optionally straight into a household"""
    check("people.write")
    c = ctx()
    household_id = request.values.get("household_id") or None
    household = household_ops.get_household(c, household_id) if household_id else None
    values: dict[str, str] = {"area": household.area.code if household else own_grid() or "",
                              "residence_type": "户籍"}  # fmt: skip
    errors: dict[str, list[str]] = {}
    error = existing = None
    status = 200
    if request.method == "POST":
        data = {k: v for k, v in form_data(request.form).items() if v not in (None, [])}
        if household is not None:
            data["household_id"] = household.id
        try:
            created = ops.create_person(c, load(PersonCreateSchema, data))
        except (ma.ValidationError, LedgerError) as exc:
            status, error, errors = form_errors(c, exc)
            existing = duplicate_of(c, exc)
            values = request.form.to_dict()
        else:
            flash(f"已登记居民 {created.name}")
            return redirect(url_for("console.person", person_id=created.id))
    html = render_template("console/person_new.html", values=values, errors=errors,
                           error=error, existing=existing, household=household,
                           grids=visible_grids(c), sexes=SEXES,
                           residence_types=RESIDENCE_TYPES)  # fmt: skip
    return private(html, status) if request.method == "POST" else html


def household_search(q: str) -> dict[str, str]:
    """A 户号 is letters, digits and hyphens; anything else is part of an address."""
    q = unicodedata.normalize("NFKC", q).strip()
    if not q:
        return {}
    return {"household_number": q} if HOUSEHOLD_NUMBER_RE.fullmatch(q) else {"address": q}


@bp.route("/households")
def households():
    """Households in your areas: find by 户号 or address, filter by grid"""
    check("households.read")
    c = ctx()
    q = request.args.get("q", "")
    area = request.args.get("area") or None
    rows, next_cursor = household_ops.list_households(
        c, area=area, limit=PAGE_SIZE, cursor=request.args.get("cursor") or None,
        **household_search(q),
    )  # fmt: skip
    ids = [h.id for h in rows]
    head_ids = [h.head_person_id for h in rows if h.head_person_id]
    heads: dict[str, Person] = {}
    counts: dict[str, int] = {}
    if rows:
        in_scope = c.scope.filter(Person.area_id)
        found = c.session.scalars(select(Person).where(Person.id.in_(head_ids), in_scope))
        heads = {p.id: p for p in found}
        counts = dict(
            c.session.execute(
                select(Person.household_id, func.count())
                .where(Person.household_id.in_(ids), in_scope)
                .group_by(Person.household_id)
            ).all()
        )
    items = [{"h": h, "head": heads.get(h.head_person_id), "members": counts.get(h.id, 0)}
             for h in rows]  # fmt: skip
    return render_template("console/households.html", items=items, next_cursor=next_cursor, q=q,
                           area=area, areas=area_options(c),
                           searching=bool(q.strip() or area))  # fmt: skip


@bp.route("/households/<string:household_id>")
def household(household_id: str):
    """One household: address, head and members with masked numbers"""
    check("households.read")
    c = ctx()
    found = household_ops.get_household(c, household_id)
    members = [{**ops.person_view(c, p), "area_name": p.area.name}
               for p in household_ops.household_members(c, found)]  # fmt: skip
    head = next((m for m in members if m["id"] == found.head_person_id), None)
    return render_template("console/household.html", h=found, members=members, head=head)

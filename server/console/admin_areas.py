"""Admin pages for the area tree: list, create, rename, and set a boundary from GeoJSON."""

from __future__ import annotations

import json

from flask import flash, redirect, render_template, request, url_for

from ledger.areas import operations as ops
from ledger.areas.boundary import Projection, bbox, rings
from ledger.areas.models import LEVEL_NAMES, LEVELS, Area
from server.auth.permissions import check
from server.console import bp
from server.console.admin import CAUGHT, FormErrors, area_rows, form_errors
from server.wiring import ctx

BY_CODE = {"areas.duplicate_code": "code"}
# Boundary files past this are beyond the domain's point limit anyway; stop reading there.
MAX_BOUNDARY_BYTES = 5 * 1024 * 1024
PREVIEW_WIDTH, PREVIEW_HEIGHT = 320, 240


@bp.route("/admin/areas", methods=["GET", "POST"])
def admin_areas():
    """The area tree with level names and boundaries set, and the form that adds an area"""
    check("areas.manage")
    c = ctx()
    errors, form = FormErrors(), {}
    if request.method == "POST":
        form = {k: (request.form.get(k) or "").strip() for k in ("code", "name", "level")}
        form["parent_code"] = (request.form.get("parent_code") or "").strip() or None
        try:
            area = ops.create_area(c.session, **form)
        except CAUGHT as exc:
            errors = form_errors(exc, BY_CODE)
            if errors is None:
                raise
        else:
            flash(f"已添加{LEVEL_NAMES[area.level]}「{area.name}」")
            return redirect(url_for("console.admin_areas"))
    rows = area_rows(ops.visible_areas(c.session, c.scope))
    page = render_template("console/admin_areas.html", rows=rows, levels=LEVELS,
                           level_names=LEVEL_NAMES, form=form, errors=errors)  # fmt: skip
    return page, errors.status if errors else 200


def _preview(area: Area) -> dict | None:
    """The saved boundary drawn into a small SVG frame, with a few facts about it."""
    if not area.boundary:
        return None
    box = bbox([area.boundary])
    proj = Projection(box, PREVIEW_WIDTH, PREVIEW_HEIGHT)
    all_rings = list(rings(area.boundary))
    return {"d": proj.path(area.boundary), "width": PREVIEW_WIDTH, "height": PREVIEW_HEIGHT,
            "type": area.boundary["type"], "rings": len(all_rings),
            "points": sum(len(r) for r in all_rings), "bbox": box}  # fmt: skip


def _area_page(c, area: Area, errors: FormErrors | None = None,
               boundary_errors: FormErrors | None = None, form: dict | None = None):  # fmt: skip
    parent = c.session.get(Area, area.parent_id) if area.parent_id else None
    errors = errors or FormErrors()
    boundary_errors = boundary_errors or FormErrors()
    page = render_template("console/admin_area.html", area=area, parent=parent,
                           level_names=LEVEL_NAMES, preview=_preview(area), errors=errors,
                           boundary_errors=boundary_errors, form=form or {})  # fmt: skip
    failed = errors or boundary_errors
    return page, failed.status if failed else 200


@bp.route("/admin/areas/<string:code>", methods=["GET", "POST"])
def admin_area(code: str):
    """One area: rename it, and see its boundary"""
    check("areas.manage")
    c = ctx()
    area = ops.get_area_by_code(c.session, code)
    if request.method == "GET":
        return _area_page(c, area)
    name = request.form.get("name") or ""
    try:
        ops.update_area(c.session, c.actor, code, name=name)
    except CAUGHT as exc:
        errors = form_errors(exc)
        if errors is None:
            raise
        return _area_page(c, area, errors=errors, form={"name": name})
    flash(f"已保存「{area.name}」")
    return redirect(url_for("console.admin_area", code=code))


def _sent_geojson() -> tuple[object, str]:
    """The GeoJSON from the uploaded file, else from the textarea, and the pasted text to show
    again if it is refused; a ValueError carries the Chinese reason it cannot be read."""
    part = request.files.get("file")
    if part is not None and part.filename:
        raw = part.stream.read(MAX_BOUNDARY_BYTES + 1)
        if len(raw) > MAX_BOUNDARY_BYTES:
            raise ValueError("文件太大（最多 5 MB），请先在 GIS 软件中简化边界")
        try:
            # GIS tools on Windows like to start their UTF-8 with a byte-order mark.
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValueError("文件不是 UTF-8 编码的 GeoJSON 文本") from None
        source, kept = "文件", ""
    else:
        text = request.form.get("geojson") or ""
        source, kept = "文本", text
    if not text.strip():
        raise ValueError("请上传 .geojson / .json 文件，或粘贴 GeoJSON 文本")
    try:
        return json.loads(text), kept
    except json.JSONDecodeError as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列"
        raise ValueError(f"{source}不是有效的 JSON（{where}）") from None


@bp.route("/admin/areas/<string:code>/boundary", methods=["POST"])
def admin_area_boundary(code: str):
    """Set an area's boundary from an uploaded or pasted GeoJSON, or clear it"""
    check("areas.manage")
    c = ctx()
    area = ops.get_area_by_code(c.session, code)
    text = request.form.get("geojson") or ""
    if request.form.get("clear") == "1":
        ops.update_area(c.session, c.actor, code, boundary=None)
        flash(f"已清除「{area.name}」的边界")
        return redirect(url_for("console.admin_area", code=code))
    try:
        geojson, text = _sent_geojson()
        ops.update_area(c.session, c.actor, code, boundary=geojson)
    except ValueError as exc:
        errors = FormErrors().add("boundary", str(exc))
        return _area_page(c, area, boundary_errors=errors, form={"geojson": text})
    except CAUGHT as exc:
        errors = form_errors(exc)
        if errors is None:
            raise
        return _area_page(c, area, boundary_errors=errors, form={"geojson": text})
    flash(f"已保存「{area.name}」的边界")
    return redirect(url_for("console.admin_area", code=code))

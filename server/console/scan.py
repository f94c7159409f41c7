"""Console OCR review: photograph an ID card or household-register page, check what was read
beside the cropped photo, correct it and register the resident (or update the one on file)."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for

from ledger.context import Ctx
from ledger.errors import LedgerError
from ledger.registry import people as ops
from ledger.registry.models import DocumentScan, Person
from ledger.registry.models.person import RESIDENCE_TYPES, SEXES
from ledger.registry.scans import ScanNotFound
from ocr.engine import OcrEngineError
from ocr.image import ImageError
from server.auth.permissions import check
from server.console import bp
from server.console.forms import visible_grids
from server.console.residents import (
    duplicate_of,
    form_data,
    form_errors,
    load,
    own_grid,
    private,
)
from server.errors import KIND_STATUS, ApiError
from server.resources.ocr.routes import read_image, scan_document
from server.resources.people.schemas import PersonCreateSchema, PersonUpdateSchema
from server.wiring import ctx

# What the user picks → what the pipeline is asked for (document, card side).
KINDS = {
    "id_card_front": ("id_card", "front", "身份证正面（人像面）"),
    "id_card_back": ("id_card", "back", "身份证背面（国徽面）"),
    "household_register": ("household_register", None, "户口簿（户主页或常住人口登记卡）"),
}
# Only these pages describe one resident; the others are shown but register nobody.
PERSON_DOCUMENTS = ("id_card_front", "household_register_member")
# Below this the recogniser was unsure of a field: clean prints read at 0.9 and more.
LOW_CONFIDENCE = 0.85
# Recognised field → the resident form's field it fills.
FORM_FIELD = {"name": "name", "sex": "sex", "ethnicity": "ethnicity", "birth_date": "birth_date",
              "id_number": "id_number", "address": "registered_address",
              "relationship_to_head": "relationship_to_head"}  # fmt: skip
# Fields each person page prints, so an empty one was not read rather than absent.
PRINTED = {
    "id_card_front": ("name", "sex", "ethnicity", "birth_date", "address", "id_number"),
    "household_register_member": ("name", "relationship_to_head", "sex", "birth_date",
                                  "id_number"),
}  # fmt: skip
# Warnings (ocr/checks.py) that are about one field.
WARNING_FIELDS = {
    "id_number_missing": ("id_number",),
    "checksum_failed": ("id_number",),
    "id_number_corrected": ("id_number",),
    "id_number_completed": ("id_number",),
    "region_unknown": ("id_number",),
    "birth_date_mismatch": ("birth_date",),
    "sex_mismatch": ("sex",),
    "ethnicity_invalid": ("ethnicity",),
}
# Checks that only mean something once the ID number passed its check digit.
NEEDS_VALID_ID = ("birth_date_matches_id", "sex_matches_id", "region")
CHECK_LABELS = (
    ("id_number_checksum", "身份证号校验位"),
    ("birth_date_matches_id", "出生日期与身份证号一致"),
    ("sex_matches_id", "性别与身份证号一致"),
    ("region", "身份证号地区码"),
    ("birth_date_valid", "出生日期有效"),
    ("ethnicity_valid", "民族为56个民族之一"),
    ("registration_date_valid", "登记日期有效"),
    ("valid_from_valid", "有效期起始日期有效"),
    ("valid_until_valid", "有效期截止日期有效"),
    ("validity_order", "有效期起止顺序正确"),
    ("validity_period_standard", "有效期为5年、10年或20年"),
    ("expired", "证件在有效期内"),
    ("issue_date_valid", "签发日期有效"),
    ("household_number_valid", "户号格式正确"),
)
# Labels of what the pages without a resident form show.
FIELD_LABELS = {"name": "姓名", "sex": "性别", "ethnicity": "民族", "birth_date": "出生日期",
                "address": "住址", "id_number": "身份证号", "issuing_authority": "签发机关",
                "valid_from": "有效期起始", "valid_until": "有效期截止", "long_term": "长期有效",
                "household_type": "户别", "head_name": "户主姓名", "household_number": "户号",
                "issue_date": "签发日期", "relationship_to_head": "与户主关系",
                "registration_date": "登记日期"}  # fmt: skip
DOCUMENT_NAMES = {"id_card_front": "身份证人像面", "id_card_back": "身份证国徽面",
                  "household_register_home": "户口簿户主页",
                  "household_register_member": "户口簿常住人口登记卡"}  # fmt: skip


def field_notes(result: dict[str, Any]) -> dict[str, list[str]]:
    """Per form field, why it needs a second look: a warning, low confidence, not read at all,
    or filled in from the ID number."""
    notes: dict[str, list[str]] = {}
    fields = result["fields"]

    def add(key: str, message: str) -> None:
        target = FORM_FIELD.get(key)
        if target and message not in notes.get(target, []):
            notes.setdefault(target, []).append(message)

    for warning in result["warnings"]:
        for key in WARNING_FIELDS.get(warning["code"], ()):
            add(key, warning["message"])
        if warning["code"] == "date_invalid" and "出生日期" in warning["message"]:
            add("birth_date", warning["message"])
    for key in PRINTED.get(result["document_type"], ()):
        if fields.get(key) in (None, "") and FORM_FIELD[key] not in notes:
            add(key, "未识别，请对照证件填写")
    for key in result["checks"].get("filled_from_id") or []:
        add(key, "证件上未识别，已按身份证号填写，请核对")
    for key, confidence in result["field_confidence"].items():
        if confidence < LOW_CONFIDENCE and fields.get(key):
            add(key, f"识别把握不大（{confidence:.0%}），请与证件核对")
    return notes


def check_list(checks: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks of a scan in reading order, each passed, failed or unknown (ok None)."""
    id_valid = checks.get("id_number_checksum") is True
    out = []
    for key, label in CHECK_LABELS:
        if key not in checks:
            continue
        value = checks[key]
        if key in NEEDS_VALID_ID and not id_valid:
            ok = None
        elif key == "region":
            ok = value is not None
        elif key == "expired":
            ok = None if value is None else not value
        else:
            ok = value
        text = {True: "通过", False: "未通过", None: "无法判断"}[ok]
        if key == "region" and ok is not None:
            text = value or "不是已知的行政区划代码"
        out.append({"label": label, "ok": ok, "text": text})
    return out


def _review(result: dict[str, Any]) -> dict[str, Any]:
    """What the review page shows besides the form; it rides along in the form as JSON so a
    failed save can show it again (display only: the save trusts nothing in it)."""
    doc = result["document_type"]
    shown = {} if doc in PERSON_DOCUMENTS else result["fields"]
    return {
        "document_type": doc,
        "document_name": DOCUMENT_NAMES.get(doc, "未识别的证件"),
        "warnings": [w["message"] for w in result["warnings"]],
        "checks": check_list(result["checks"]),
        "notes": field_notes(result),
        "fields": [
            {"label": FIELD_LABELS.get(k, k), "value": "是" if v is True else v}
            for k, v in shown.items()
            if v not in (None, "", False)
        ],
        "portrait_file": result.get("portrait_file"),
    }


def _draft_values(draft: dict[str, Any]) -> dict[str, str]:
    values = {k: "" if v is None else str(v) for k, v in draft.items()}
    values.setdefault("residence_type", "户籍")
    return values


def _page(c: Ctx, *, kind: str = "id_card_front", scan=None, review=None, values=None,
          existing: Person | None = None, errors=None, error=None, upload_error=None):  # fmt: skip
    return render_template("console/scan.html", kinds=KINDS, kind=kind, scan=scan, review=review,
                           review_json=json.dumps(review, ensure_ascii=False) if review else "",
                           values=values or {}, existing=existing, errors=errors or {},
                           error=error, upload_error=upload_error, grids=visible_grids(c),
                           sexes=SEXES, residence_types=RESIDENCE_TYPES)  # fmt: skip


def _existing(c: Ctx, person_id: str | None) -> Person | None:
    if not person_id:
        return None
    person = c.session.get(Person, person_id)
    return person if person is not None and c.scope.allows(person.area_id) else None


@bp.route("/scan", methods=["GET", "POST"])
def scan():
    """Upload a document photo, then review the recognised fields beside the cropped photo"""
    check("people.write")
    c = ctx()
    kind = request.form.get("kind") or request.args.get("kind") or "id_card_front"
    if kind not in KINDS:
        kind = "id_card_front"
    if request.method == "GET":
        return _page(c, kind=kind)
    expect, side, _label = KINDS[kind]
    try:
        part, upload = read_image("image")
        result = scan_document(part, upload, expect, side)
    except (ApiError, LedgerError, ImageError) as exc:
        # A bad photo is the user's to retake: say why on the upload form, keep the choice.
        status = exc.status if isinstance(exc, ApiError) else 422
        if isinstance(exc, LedgerError):
            status = KIND_STATUS.get(exc.kind, 400)
        return _page(c, kind=kind, upload_error=exc.message), status
    except OcrEngineError:
        message = "识别服务暂时不可用，请稍后重试或手动登记"
        return _page(c, kind=kind, upload_error=message), 503
    record = c.session.get(DocumentScan, result["scan_id"])
    values = _draft_values(result["person_draft"])
    values.setdefault("area", own_grid() or "")
    html = _page(c, kind=kind, scan=record, review=_review(result), values=values,
                 existing=_existing(c, result["existing_person_id"]))  # fmt: skip
    # The form holds the full ID number just read.
    return private(html)


def _load_scan(c: Ctx, scan_id: str) -> DocumentScan:
    """A scan the user took, or one from their areas (the rule linking it applies)."""
    found = c.session.get(DocumentScan, scan_id)
    if found is None or (found.scanned_by != c.actor.id and not c.scope.allows(found.area_id)):
        raise ScanNotFound(details={"id": scan_id})
    return found


def _review_from_form(found: DocumentScan) -> dict[str, Any]:
    """The review shown before a failed save, again; the document type comes from the record."""
    try:
        sent = json.loads(request.form.get("review") or "{}")
    except ValueError:
        sent = {}
    sent = sent if isinstance(sent, dict) else {}
    notes = sent.get("notes") if isinstance(sent.get("notes"), dict) else {}
    return {
        "document_type": found.document_type,
        "document_name": DOCUMENT_NAMES.get(found.document_type or "", "未识别的证件"),
        "warnings": [str(w) for w in sent.get("warnings") or [] if isinstance(w, str)],
        "checks": [ch for ch in sent.get("checks") or [] if isinstance(ch, dict)],
        "notes": {str(k): [str(m) for m in v] for k, v in notes.items() if isinstance(v, list)},
        "fields": [],
        "portrait_file": found.portrait_file,
    }


@bp.route("/scan/<string:scan_id>", methods=["POST"])
def scan_save(scan_id: str):
    """Save the reviewed fields: a new resident linked to the scan, or update the one on file"""
    check("people.write")
    c = ctx()
    found = _load_scan(c, scan_id)
    existing = _existing(c, request.form.get("existing_person_id"))
    data = {k: v for k, v in form_data(request.form).items() if v not in (None, [])}
    try:
        if request.form.get("action") == "update" and existing is not None:
            # The resident keeps their grid; what the document did not say stays as it was.
            changes = {k: v for k, v in data.items() if k != "area"}
            version = request.form.get("existing_version", "")
            person = ops.update_person(c, existing.id,
                                       load(PersonUpdateSchema, {**changes, "scan_id": found.id}),
                                       int(version) if version.isdigit() else None)  # fmt: skip
            flash(f"已用证件信息更新居民 {person.name}")
        else:
            person = ops.create_person(c, load(PersonCreateSchema, {**data, "scan_id": found.id}))
            flash(f"已登记居民 {person.name}")
    except (ma.ValidationError, LedgerError) as exc:
        status, message, errors = form_errors(c, exc)
        review = _review_from_form(found)
        html = _page(c, scan=found, review=review, values=request.form.to_dict(),
                     existing=existing or duplicate_of(c, exc), errors=errors,
                     error=message)  # fmt: skip
        return private(html, status)
    return redirect(url_for("console.person", person_id=person.id))

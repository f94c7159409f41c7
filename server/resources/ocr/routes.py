"""Photograph an ID card or household-register page; get back checked fields and a draft."""

from __future__ import annotations

from flask import g, jsonify
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.files import operations as files
from ledger.files.sniff import IMAGE_UPLOAD_TYPES, check_upload
from ledger.registry import scans
from ocr import pipeline
from server.auth.permissions import require
from server.resources.ocr.schemas import (
    DocumentResultSchema,
    ImageFormSchema,
    SideFormSchema,
    TextResultSchema,
)
from server.uploads import ingest_upload, install_upload_limit
from server.wiring import ctx, ocr_engine

blp = Blueprint("ocr", __name__, url_prefix="/api/v1/ocr", description="证件识别")
install_upload_limit(blp)


def read_image(field: str = "image"):
    """The uploaded photo, checked to be an image format we decode, spooled on disk."""
    part, upload = ingest_upload(field)
    try:
        check_upload(upload.head, part.filename, part.mimetype, IMAGE_UPLOAD_TYPES)
    except Exception:
        upload.discard()
        raise
    return part, upload


def _keep_original(part, upload):
    # Only photos that decoded are kept: a corrupt or hostile upload leaves nothing behind.
    return files.store_upload(
        ctx(),
        upload,
        filename=part.filename,
        declared_type=part.mimetype,
        allowed=IMAGE_UPLOAD_TYPES,
    )


def scan_document(part, upload, expect: str, side: str | None) -> dict:
    """OCR a checked photo, keep it with its crop and portrait, and record the scan.

    The API and the console's review page both return this: checked fields, a person draft
    and the stored files. The upload is consumed (closed) either way.
    """
    c = ctx()
    with upload:
        result = pipeline.scan(
            upload.path.read_bytes(), expect=expect, side=side, engine=ocr_engine()
        )
        original = _keep_original(part, upload)
    document = files.store_bytes(c, pipeline.encode_jpeg(result.crop), "image/jpeg")
    portrait = None
    if result.portrait is not None and result.portrait.size:
        portrait = files.store_bytes(c, pipeline.encode_jpeg(result.portrait), "image/jpeg")
    record = scans.record_scan(
        c,
        requested=expect,
        document_type=result.document_type,
        engine=result.engine,
        fields=result.fields,
        warnings=[w["code"] for w in result.warnings],
        original_file=original.sha256,
        document_file=document.sha256,
        portrait_file=portrait.sha256 if portrait else None,
    )
    grid = g.user.area.code if g.user.area is not None and g.user.area.level == "grid" else None
    return {
        "scan_id": record.id,
        "document_type": result.document_type,
        "fields": result.fields,
        "field_confidence": result.field_confidence,
        "checks": result.checks,
        "warnings": result.warnings,
        "person_draft": scans.person_draft(result.document_type, result.fields, grid),
        "existing_person_id": scans.existing_person_id(c, result.fields.get("id_number")),
        "document_file": document.sha256,
        "original_file": original.sha256,
        "portrait_file": portrait.sha256 if portrait else None,
        "engine": result.engine,
        "timing_ms": result.timing_ms,
    }


def _scan(expect: str, side: str | None):
    part, upload = read_image()
    body = scan_document(part, upload, expect, side)
    # Recognised ID numbers are personal data: never let a proxy or the browser cache them.
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.route("/id-card", endpoint="IdCard")
class IdCardViews(MethodView):
    @require("people.write")
    @blp.arguments(ImageFormSchema, location="files")
    @blp.arguments(SideFormSchema, location="form")
    @blp.response(200, DocumentResultSchema)
    def post(self, _files, form):
        """Read a photo of a resident ID card (front or back) into checked fields"""
        return _scan("id_card", form["side"])


@blp.route("/household-register", endpoint="HouseholdRegister")
class HouseholdRegisterViews(MethodView):
    @require("people.write")
    @blp.arguments(ImageFormSchema, location="files")
    @blp.response(200, DocumentResultSchema)
    def post(self, _form):
        """Read a photo of a household-register page (户主页 or 常住人口登记卡)"""
        return _scan("household_register", None)


@blp.route("/text", endpoint="Text")
class TextViews(MethodView):
    @require("files.upload")
    @blp.arguments(ImageFormSchema, location="files")
    @blp.response(200, TextResultSchema)
    def post(self, _form):
        """Read all text lines of any photo"""
        part, upload = read_image()
        with upload:
            lines, timing = pipeline.read_text(upload.path.read_bytes(), engine=ocr_engine())
            _keep_original(part, upload)
        return {
            "lines": [line.as_dict() for line in lines],
            "engine": ocr_engine().name,
            "timing_ms": timing,
        }

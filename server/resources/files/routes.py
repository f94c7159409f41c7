"""Uploads are sniffed, deduplicated by sha256 and served only to those allowed to see them."""

from __future__ import annotations

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.files import operations as ops
from ledger.files.blobstore import content_disposition, ingest_stream, is_sha256
from server.auth.permissions import require
from server.errors import ApiError
from server.resources.files.schemas import FileSchema, UploadFormSchema
from server.wiring import ctx

blp = Blueprint("files", __name__, url_prefix="/api/v1/files", description="文件")

# Room for the multipart boundaries and part headers around the file itself, so a file of
# exactly the advertised size is accepted; ingest_stream enforces the limit on the file.
MULTIPART_SLACK = 64 * 1024


def _too_large(max_bytes: int) -> ApiError:
    limit = f"{max_bytes / (1 << 20):.1f}".removesuffix(".0")
    return ApiError(
        413,
        "files.too_large",
        f"文件太大（最大 {limit} MB），请压缩后重新上传",
        {"max_bytes": max_bytes},
    )


@blp.before_request
def _upload_limit():
    """Reject an oversized upload from its Content-Length before reading any of it."""
    if request.method != "POST":
        return
    max_bytes = current_app.extensions["wangge_settings"].max_upload_bytes
    if request.content_length is not None and request.content_length > max_bytes + MULTIPART_SLACK:
        raise _too_large(max_bytes)
    request.max_content_length = max_bytes + MULTIPART_SLACK


def ingest_upload(field: str):
    """Spool the multipart part ``field`` to disk while hashing; 422 if it is missing."""
    part = request.files.get(field)
    if part is None or (not part.filename and part.content_length == 0):
        raise ApiError(
            422,
            "validation_error",
            "请选择要上传的文件",
            {"fields": {field: ["必填项"]}},
        )
    settings = current_app.extensions["wangge_settings"]
    upload = ingest_stream(
        part.stream, settings.data_dir / "tmp", max_bytes=settings.max_upload_bytes
    )
    if upload.size == 0:
        upload.discard()
        raise ApiError(
            422,
            "validation_error",
            "上传的文件是空的，请重新选择文件",
            {"fields": {field: ["文件为空"]}},
        )
    return part, upload


@blp.route("")
class FilesViews(MethodView):
    @require("files.upload")
    @blp.arguments(UploadFormSchema, location="files")
    @blp.response(201, FileSchema)
    def post(self, _form):
        """Upload a photo, recording or PDF; identical bytes are stored once"""
        part, upload = ingest_upload("file")
        with upload:
            record = ops.store_upload(
                ctx(), upload, filename=part.filename, declared_type=part.mimetype
            )
        return {"sha256": record.sha256, "size": record.size, "content_type": record.content_type}


@blp.route("/<string:sha256>")
class FileByHashViews(MethodView):
    @require("files.read")
    @blp.response(200)
    def get(self, sha256):
        """Download a file you uploaded or that belongs to a record you may see"""
        if not is_sha256(sha256):
            raise ApiError(404, "files.not_found", "文件不存在")
        c = ctx()
        record = ops.readable_file(c, sha256)
        if request.headers.get("If-None-Match", "").strip('"') == sha256:
            return Response(status=304)
        reader = c.blobs.open(sha256)

        def chunks():
            try:
                while chunk := reader.read(1 << 16):
                    yield chunk
            finally:
                reader.close()

        response = Response(stream_with_context(chunks()), mimetype=record.content_type)
        response.headers["Content-Length"] = str(record.size)
        response.headers["ETag"] = f'"{sha256}"'
        response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Disposition"] = content_disposition(None)
        return response

"""Uploads are sniffed, deduplicated by sha256 and served only to those allowed to see them."""

from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.files import operations as ops
from ledger.files.blobstore import content_disposition, is_sha256
from server.auth.permissions import require
from server.errors import ApiError
from server.resources.files.schemas import FileSchema, UploadFormSchema
from server.uploads import ingest_upload, install_upload_limit
from server.wiring import ctx

blp = Blueprint("files", __name__, url_prefix="/api/v1/files", description="文件")

install_upload_limit(blp)


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
        return file_response(ctx(), sha256)


def file_response(c, sha256: str) -> Response:
    """The blob streamed with its type, if the caller may read it (the console reuses this)."""
    if not is_sha256(sha256):
        raise ApiError(404, "files.not_found", "文件不存在")
    record = ops.readable_file(c, sha256)
    if request.headers.get("If-None-Match", "").strip('"') == sha256:
        return Response(status=304)
    reader = c.blobs.open(sha256)

    # A plain iterator, not stream_with_context: streaming must not keep this request's
    # context (and its user) alive after the view returns.
    response = Response(iter(lambda: reader.read(1 << 16), b""), mimetype=record.content_type)
    response.call_on_close(reader.close)
    response.headers["Content-Length"] = str(record.size)
    response.headers["ETag"] = f'"{sha256}"'
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = content_disposition(None)
    return response

"""Multipart uploads shared by every endpoint that takes a file: size limits and disk spooling."""

from __future__ import annotations

from flask import current_app, request
from flask_smorest import Blueprint

from ledger.files.blobstore import ingest_stream
from server.errors import ApiError

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


def install_upload_limit(blp: Blueprint) -> None:
    """Reject an oversized upload from its Content-Length before reading any of it."""

    @blp.before_request
    def _upload_limit():
        # Only file uploads get the multipart slack; JSON bodies keep the plain limit.
        if request.method != "POST" or request.mimetype != "multipart/form-data":
            return
        max_bytes = current_app.extensions["wangge_settings"].max_upload_bytes
        if (
            request.content_length is not None
            and request.content_length > max_bytes + MULTIPART_SLACK
        ):
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
    return part, ingest_part(part, field)


def ingest_part(part, field: str):
    """Spool one multipart part to disk while hashing; 422 if it is empty."""
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
    return upload

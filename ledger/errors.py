"""Exceptions raised by the community records domain; the server maps them to HTTP."""

from __future__ import annotations

from typing import Any


class LedgerError(Exception):
    """Base for domain errors: a stable ``code``, a Chinese ``message`` and optional ``details``.

    ``kind`` says what went wrong in domain terms; only ``server/errors.py`` turns it
    into an HTTP status, so this package never needs to know about HTTP.
    """

    kind = "invalid"
    code = "ledger.error"
    message = "请求无法处理"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details or {}
        super().__init__(f"{self.code}: {self.message}")


class InvalidInput(LedgerError):
    """The data breaks a domain rule (field errors go in ``details['fields']``)."""

    kind = "invalid"
    code = "validation_error"
    message = "提交的数据有误，请按提示修改"


class NotFound(LedgerError):
    """The object does not exist or lies outside the caller's areas."""

    kind = "not_found"
    code = "not_found"
    message = "找不到该记录，或您无权查看"


class Conflict(LedgerError):
    """The change collides with existing data (duplicates, non-empty containers)."""

    kind = "conflict"
    code = "conflict"
    message = "与已有数据冲突"


class VersionMismatch(LedgerError):
    """The client edited an out-of-date version of the record."""

    kind = "precondition_failed"
    code = "version_mismatch"
    message = "该记录已被他人修改，请刷新后重试"


class Forbidden(LedgerError):
    """The caller's role or areas do not allow the action."""

    kind = "forbidden"
    code = "forbidden"
    message = "您没有权限执行此操作"


class UnsupportedMedia(LedgerError):
    """An upload is of a type we do not accept, or not what it claims to be."""

    kind = "unsupported_media"
    code = "files.unsupported_type"
    message = "不支持的文件类型，请上传照片、录音或 PDF"


class TooLarge(LedgerError):
    """An upload exceeds the configured size limit."""

    kind = "too_large"
    code = "files.too_large"
    message = "文件太大，请压缩后重新上传"

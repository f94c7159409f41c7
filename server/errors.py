"""One JSON error envelope for every 4xx and 5xx, with stable codes and Chinese messages."""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from ledger.errors import LedgerError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error raised by the HTTP layer itself (auth, throttling, preconditions)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}
        self.headers: dict[str, str] = {}


# Domain packages say what went wrong in their own terms; only this table knows HTTP.
KIND_STATUS = {
    "invalid": 422,
    "not_found": 404,
    "conflict": 409,
    "precondition_failed": 412,
    "forbidden": 403,
    "unsupported_media": 415,
    "too_large": 413,
    "unavailable": 503,
}

HTTP_DEFAULTS = {
    400: ("bad_request", "请求格式不正确，请检查后重试"),
    401: ("auth.required", "请先登录"),
    403: ("forbidden", "您没有权限执行此操作"),
    404: ("not_found", "请求的地址或记录不存在"),
    405: ("method_not_allowed", "不支持该请求方式"),
    406: ("not_acceptable", "无法返回所请求的格式"),
    409: ("conflict", "与已有数据冲突"),
    412: ("version_mismatch", "该记录已被他人修改，请刷新后重试"),
    413: ("request_too_large", "上传内容太大，请压缩后重新上传"),
    415: ("unsupported_media_type", "不支持的内容类型"),
    422: ("validation_error", "提交的数据有误，请按提示修改"),
    428: ("precondition_required", "请带上记录版本号（If-Match）后再提交修改"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后重试；如持续出现请联系管理员"),
    503: ("unavailable", "服务暂时不可用，请稍后重试"),
}

# marshmallow and webargs speak English; field workers need to know what to fix in Chinese.
_FIELD_MESSAGES = [
    (re.compile(r"^Missing data for required field\.$"), "必填项"),
    (re.compile(r"^Field may not be null\.$"), "不能为空"),
    (re.compile(r"^Unknown field\.$"), "不支持的字段"),
    (re.compile(r"^Not a valid string\.$"), "应为文本"),
    (re.compile(r"^Not a valid integer\.$"), "应为整数"),
    (re.compile(r"^Not a valid number\.$"), "应为数字"),
    (re.compile(r"^Not a valid boolean\.$"), "应为是/否"),
    (re.compile(r"^Not a valid date\.$"), "日期格式应为 YYYY-MM-DD"),
    (
        re.compile(r"^Not a valid datetime\.$"),
        "时间格式应为 ISO 8601，例如 2024-03-05T08:00:00+08:00",
    ),
    (
        re.compile(r"^Not a valid aware datetime\.$"),
        "时间须带时区，例如 2024-03-05T08:00:00+08:00",
    ),
    (re.compile(r"^Not a valid UUID\.$"), "应为 UUID 格式"),
    (re.compile(r"^Not a valid mapping type\.$"), "应为对象（键值对）"),
    (re.compile(r"^Invalid type\.$"), "数据类型不正确"),
    (re.compile(r"^Not a valid utf-8 string\.$"), "文本应为 UTF-8 编码"),
    (re.compile(r"^Number too large\.$"), "数值太大"),
    (re.compile(r"^Length must be (\d+)\.$"), r"长度应为 \1"),
    (re.compile(r"^Not a valid list\.$"), "应为列表"),
    (re.compile(r"^Invalid input type\.$"), "数据类型不正确"),
    (re.compile(r"^Invalid value\.$"), "取值无效"),
    (re.compile(r"^Must be one of: (.*)\.$"), r"取值应为：\1"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), r"长度应在 \1 到 \2 之间"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), r"长度不能少于 \1"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), r"长度不能超过 \1"),
    (
        re.compile(r"^Must be greater than or equal to (\S+) and less than or equal to (\S+)\.$"),
        r"应在 \1 到 \2 之间",
    ),
    (re.compile(r"^Must be greater than or equal to (\S+)\.$"), r"不能小于 \1"),
    (re.compile(r"^Must be less than or equal to (\S+)\.$"), r"不能大于 \1"),
    (re.compile(r"^String does not match expected pattern\.$"), "格式不正确"),
    (re.compile(r"^Invalid JSON body\.$"), "请求数据不是有效的 JSON"),
]


# Audio that is too big or too long is refused like any oversized upload; the rest is 422.
SPEECH_STATUS = {"speech.too_large": 413, "speech.too_long": 413}


def translate(message: Any) -> Any:
    if isinstance(message, str):
        for pattern, replacement in _FIELD_MESSAGES:
            if pattern.match(message):
                return pattern.sub(replacement, message)
        return message
    if isinstance(message, list):
        return [translate(m) for m in message]
    if isinstance(message, dict):
        return {k: translate(v) for k, v in message.items()}
    return message


def envelope(status: int, code: str, message: str, details: dict[str, Any] | None = None):
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def _validation_fields(messages: dict[str, Any]) -> dict[str, Any]:
    """webargs nests errors by location (json, query, form); the app wants them by field."""
    fields: dict[str, Any] = {}
    for location, errors in messages.items():
        if isinstance(errors, dict):
            fields.update(errors)
        else:
            fields[location] = errors
    return translate(fields)


def register_content_type_check(app: Flask) -> None:
    """A body the API cannot read gets a 415 instead of a misleading "field required"."""

    @app.before_request
    def _check_content_type():
        if request.method not in ("POST", "PUT", "PATCH") or not request.path.startswith("/api/"):
            return None
        if not request.content_length and not request.headers.get("Transfer-Encoding"):
            return None
        if request.mimetype in ("application/json", "multipart/form-data") or (
            request.mimetype.endswith("+json")
        ):
            return None
        raise ApiError(
            415,
            "unsupported_media_type",
            "请求内容应为 JSON（Content-Type: application/json）或文件上传（multipart/form-data）",
            {"content_type": request.mimetype or None},
        )


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(LedgerError)
    def _ledger_error(exc: LedgerError):
        status = KIND_STATUS.get(exc.kind, 400)
        details = dict(exc.details)
        if "fields" in details:
            details["fields"] = translate(details["fields"])
        return envelope(status, exc.code, exc.message, details)

    from ocr.engine import OcrEngineError
    from ocr.image import ImageError

    @app.errorhandler(ImageError)
    def _image_error(exc: ImageError):
        return envelope(422, exc.code, exc.message, getattr(exc, "details", None) or {})

    @app.errorhandler(OcrEngineError)
    def _engine_error(exc: OcrEngineError):
        log.error("OCR engine unavailable: %s", exc)
        return envelope(503, "ocr.engine_unavailable", "识别服务暂时不可用，请稍后重试或手动填写")

    from speech import EngineError as SpeechEngineError
    from speech import SpeechError

    @app.errorhandler(SpeechError)
    def _speech_error(exc: SpeechError):
        if isinstance(exc, SpeechEngineError):
            log.error("speech engine unavailable: %s", exc)
            return envelope(503, exc.code, exc.message_zh + "请稍后重试或改用文字输入。")
        return envelope(SPEECH_STATUS.get(exc.code, 422), exc.code, exc.message_zh)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        response = envelope(exc.status, exc.code, exc.message, exc.details)
        response.headers.update(exc.headers)
        return response

    from werkzeug.routing import WebsocketMismatch

    @app.errorhandler(WebsocketMismatch)
    def _websocket_mismatch(exc: WebsocketMismatch):
        from server.auth.service import is_websocket

        # A plain HTTP request to a WebSocket address, or the other way round.
        if is_websocket():
            return envelope(400, "websocket_not_supported", "该地址不支持 WebSocket 连接")
        response = envelope(426, "websocket_required", "该地址只接受 WebSocket 连接")
        response.headers["Upgrade"] = "websocket"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code, message = HTTP_DEFAULTS.get(status, ("http_error", "请求无法处理"))
        details: dict[str, Any] = {}
        data = getattr(exc, "data", None) or {}
        messages = data.get("messages") if isinstance(data, dict) else None
        if status == 422 and messages:
            details["fields"] = _validation_fields(messages)
        elif status == 400 and messages:
            flat = _validation_fields(messages)
            if any("JSON" in str(v) for v in flat.values()):
                code, message = "bad_json", "请求数据不是有效的 JSON，请检查格式"
            details["fields"] = flat
        if status == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            if limit:
                details["max_bytes"] = limit
        response = envelope(status, code, message, details)
        if status == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        # Log the traceback for operators; the client only ever sees the envelope.
        log.exception("unhandled error")
        code, message = HTTP_DEFAULTS[500]
        return envelope(500, code, message)

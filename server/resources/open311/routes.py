"""Open311 GeoReport v2 endpoints (JSON): services, service definitions, requests."""

from __future__ import annotations

import json

import marshmallow as ma
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from ledger.reports import api_clients, open311
from ledger.reports.errors import ReportNotFound
from ledger.reports.reports import get_report
from server.auth.service import client_ip
from server.db import get_session
from server.errors import ApiError
from server.resources.open311.schemas import RequestCreateSchema, RequestsQuerySchema
from server.wiring import blobs

blp = Blueprint("open311", __name__, url_prefix="/open311/v2",
                description="Open311 GeoReport v2（12345 热线等外部系统接入）")  # fmt: skip


@blp.after_request
def _open311_errors(response):
    """GeoReport v2 errors are a list of {code, description}; our stable code rides along."""
    if response.status_code == 422:
        response.status_code = 400  # GeoReport v2 reports every bad request as 400
    if response.status_code >= 400 and response.is_json:
        body = response.get_json(silent=True) or {}
        error = body.get("error") if isinstance(body, dict) else None
        if error:
            response.set_data(json.dumps([{
                "code": response.status_code, "description": error.get("message"),
                "error_code": error.get("code"), "details": error.get("details") or {},
            }], ensure_ascii=False, default=str))  # fmt: skip
    return response


def _params(schema: ma.Schema, source) -> dict:
    try:
        return schema.load(source)
    except ma.ValidationError as exc:
        raise ApiError(400, "open311.bad_request", "参数有误", {"fields": exc.messages}) from None


def _client_ctx(params: dict, *, touch: bool = False):
    """Every request call needs a key: reports carry residents' words and places."""
    key = params.get("api_key") or request.headers.get("X-Api-Key")
    session = get_session()
    client = api_clients.authenticate(session, key)
    if client is None:
        raise ApiError(403, "open311.bad_api_key", "api_key 无效或已停用")
    if touch:  # only writes record use; a read must not take SQLite's write lock
        api_clients.touch(client)
    c = api_clients.client_ctx(session, client, current_app.extensions["wangge_pii"], blobs(),
                               client_ip())  # fmt: skip
    return c, client


def _anonymous_ctx():
    from ledger.areas.scope import Scope
    from ledger.context import Ctx

    return Ctx(session=get_session(), actor=None, scope=Scope.everything(), pii=None)


@blp.route("/services.json")
class ServicesViews(MethodView):
    def get(self):
        """Service list: every report category, grouped by its class"""
        return open311.services(_anonymous_ctx())


@blp.route("/services/<string:code>.json")
class ServiceDefinitionViews(MethodView):
    def get(self, code):
        """Service definition: the category's extra attributes (none)"""
        definition = open311.service_definition(_anonymous_ctx(), code)
        if definition is None:
            raise ApiError(404, "open311.unknown_service", "没有该服务类型", {"service_code": code})
        return definition


@blp.route("/requests.json")
class RequestsViews(MethodView):
    def get(self):
        """Service requests in the key's area, filtered by ids, codes, dates and status"""
        params = _params(RequestsQuerySchema(), request.args)
        c, _ = _client_ctx(params)
        found = open311.find_requests(
            c, ids=params.get("service_request_id"), service_codes=params.get("service_code"),
            start=params.get("start_date"), end=params.get("end_date"),
            status=params.get("status"),
        )  # fmt: skip
        return [open311.request_view(c, r) for r in found]

    def post(self):
        """Create a service request (api_key required); it enters the loop as a report"""
        raw = request.form.to_dict() if request.form else (request.get_json(silent=True) or {})
        if not isinstance(raw, dict):
            raise ApiError(400, "open311.bad_request", "请求体应为表单或 JSON 对象")
        params = _params(RequestCreateSchema(), raw)
        c, client = _client_ctx(params, touch=True)
        report = open311.create_request(c, params, client.source)
        notice = f"已受理，事件编号 {report.id}，可凭编号查询办理进度"
        return [{"service_request_id": report.id, "service_notice": notice, "account_id": None}]


@blp.route("/requests/<string:request_id>.json")
class RequestByIdViews(MethodView):
    def get(self, request_id):
        """One service request"""
        c, _ = _client_ctx(_params(RequestsQuerySchema(), request.args))
        try:
            report = get_report(c, request_id)
        except ReportNotFound:
            raise ApiError(404, "open311.not_found", "没有该服务请求",
                           {"service_request_id": request_id}) from None  # fmt: skip
        return [open311.request_view(c, report)]

"""The web console (社区工作台) for community staff, dispatchers and departments: Chinese pages
served by the same app under /console/, signed-cookie sessions with CSRF tokens, the same
permissions and scopes as the JSON API, and no asset from outside the server."""

from __future__ import annotations

import importlib
import pkgutil
import secrets

from flask import (
    Blueprint,
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from ledger.errors import LedgerError
from server.auth.service import bind_user
from server.db import read_session
from server.errors import KIND_STATUS, ApiError, envelope

bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates",
               static_folder="static", static_url_path="/static")  # fmt: skip
OPEN_ENDPOINTS = {"console.login", "console.static"}


@bp.app_template_global()
def csrf_token() -> str:
    """The session's CSRF token, made on first use; every form and fetch sends it back."""
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return session["csrf"]


@bp.before_request
def _session_user():
    """Pages need a live login session; a revoked or disabled one goes back to the login."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    uid, sid = session.get("uid"), session.get("sid")
    if not uid or not sid:
        if wants_json():
            return envelope(401, "auth.required", "登录已过期，请重新登录")
        return redirect(url_for("console.login", next=request.full_path))
    with read_session() as reader:
        try:
            bind_user(reader, int(uid), str(sid))
        except ApiError:
            session.clear()
            return redirect(url_for("console.login"))
    return None


@bp.before_request
def _check_csrf():
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token")
    if not sent or not secrets.compare_digest(sent, session.get("csrf", "")):
        raise ApiError(400, "console.csrf", "页面已过期，请刷新后重试")
    return None


@bp.context_processor
def _globals():
    from ledger.ledgers.entries import CHINA
    from server.auth.permissions import can

    user = g.get("user")
    return {"csrf_token": csrf_token, "user": user, "china": CHINA, "page_url": page_url,
            "has_page": lambda endpoint: endpoint in current_app.view_functions,
            "can": lambda permission: user is not None and can(user.role, permission)}  # fmt: skip


# Template globals, not only context: macros imported without "with context" can use them.
@bp.app_template_global()
def page_url(**changes) -> str:
    """This page's URL with some query arguments changed (None drops one): pagers, sorting."""
    args = {**request.view_args, **request.args.to_dict(), **changes}
    return url_for(request.endpoint, **{k: v for k, v in args.items() if v not in (None, "")})


def wants_json() -> bool:
    """Calls from the pages' scripts (progress bars, reveal buttons) get the JSON envelope."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _error_page(status: int, code: str, message: str, details: dict | None = None):
    if wants_json():
        return envelope(status, code, message, details)
    return render_template("console/error.html", status=status, code=code,
                           message=message), status  # fmt: skip


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    if exc.status == 401 and not wants_json():
        session.clear()
        return redirect(url_for("console.login"))
    return _error_page(exc.status, exc.code, exc.message, exc.details)


@bp.errorhandler(LedgerError)
def _domain_error(exc: LedgerError):
    return _error_page(KIND_STATUS.get(exc.kind, 400), exc.code, exc.message, exc.details)


def register_console(app: Flask) -> None:
    # Every module of this package is a group of pages; importing one registers its routes.
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")

    # The cookie is for these pages only; the JSON API stays bearer-token based.
    app.config["SESSION_COOKIE_SAMESITE"] = app.config["SESSION_COOKIE_SAMESITE"] or "Lax"
    app.config["SESSION_COOKIE_PATH"] = app.config["SESSION_COOKIE_PATH"] or "/console"
    app.register_blueprint(bp)

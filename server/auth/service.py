"""Login, token refresh, logout and per-request authentication."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from flask import current_app, g, request
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from ledger.accounts.models import User
from ledger.areas.scope import Scope
from ledger.audit import operations as audit
from ledger.audit.operations import Actor
from ledger.db import new_uuid, utcnow
from server.auth.models import AuthSession, LoginFailure, RefreshToken
from server.auth.passwords import hash_password, needs_rehash, verify_password
from server.db import read_session
from server.errors import ApiError


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    # The login session the tokens belong to (the console keeps it in its cookie).
    session_id: str = ""


def _settings():
    return current_app.extensions["wangge_settings"]


def client_ip() -> str | None:
    # Behind a load balancer ProxyFix (configured in the factory) has already rewritten this.
    return request.remote_addr


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _issue(session: Session, auth_session: AuthSession, user: User) -> TokenPair:
    settings = _settings()
    now = utcnow()
    expires_in = settings.access_token_minutes * 60
    access = jwt.encode(
        {
            "sub": str(user.id),
            "sid": auth_session.id,
            "role": user.role,
            "iat": now,
            "exp": now + timedelta(seconds=expires_in),
            "typ": "access",
        },
        settings.secret_key,
        algorithm="HS256",
    )
    refresh = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            token_hash=_hash_token(refresh),
            session_id=auth_session.id,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    session.flush()
    return TokenPair(access, refresh, expires_in, auth_session.id)


def _throttle(session: Session, username: str, ip: str | None) -> ApiError | None:
    """The 429 to answer if this username or address failed too often recently, else None."""
    settings = _settings()
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    checks = [(LoginFailure.username == username, settings.login_max_failures)]
    if ip:
        checks.append((LoginFailure.ip == ip, settings.login_max_failures_per_ip))
    for condition, limit in checks:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(
                condition, LoginFailure.at >= since
            )
        ).one()
        if count >= limit:
            retry = oldest + timedelta(minutes=settings.login_window_minutes) - utcnow()
            seconds = max(1, math.ceil(retry.total_seconds()))
            minutes = max(1, math.ceil(seconds / 60))
            err = ApiError(
                429,
                "auth.too_many_attempts",
                f"登录失败次数过多，请 {minutes} 分钟后再试",
                {"retry_after": seconds},
            )
            err.headers["Retry-After"] = str(seconds)
            return err
    return None


def login(session: Session, username: str, password: str) -> tuple[User, TokenPair]:
    ip = client_ip()
    username = (username or "").strip()
    # Checks and the deliberately slow password hash run outside the write transaction, so a
    # login never holds SQLite's write lock while Argon2 works.
    with read_session() as reader:
        throttled = _throttle(reader, username, ip)
        found = reader.scalar(select(User).where(User.username == username))
        password_hash = found.password_hash if found else None
    if throttled is not None:
        audit.record(
            session,
            Actor(found.id if found else None, username[:64], found.role if found else None, ip),
            "auth.login_throttled",
            object_type="user",
            object_id=str(found.id) if found else None,
        )
        session.commit()
        raise throttled
    ok = verify_password(password_hash, password or "")
    user = session.get(User, found.id) if found else None
    if not ok or user is None or not user.active:
        session.add(LoginFailure(username=username[:64], ip=ip))
        audit.record(
            session,
            Actor(user.id if user else None, username[:64], user.role if user else None, ip),
            "auth.login_failed",
            object_type="user",
            object_id=str(user.id) if user else None,
            details={"reason": "inactive" if ok and user is not None else "bad_credentials"},
        )
        # The failure must be counted even though the request ends in an error.
        session.commit()
        if ok and user is not None and not user.active:
            raise ApiError(403, "auth.account_disabled", "该账号已停用，请联系管理员")
        raise ApiError(401, "auth.invalid_credentials", "用户名或密码错误")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    auth_session = AuthSession(
        id=new_uuid(), user_id=user.id, ip=ip, user_agent=(request.user_agent.string or "")[:255]
    )
    session.add(auth_session)
    session.flush()
    audit.record(
        session,
        Actor(user.id, user.username, user.role, ip),
        "auth.login",
        object_type="user",
        object_id=str(user.id),
    )
    return user, _issue(session, auth_session, user)


def refresh(session: Session, token: str) -> tuple[User, TokenPair]:
    invalid = ApiError(401, "auth.invalid_refresh_token", "登录已过期，请重新登录")
    row = session.get(RefreshToken, _hash_token(token or ""))
    if row is None:
        raise invalid
    auth_session = session.get(AuthSession, row.session_id)
    user = session.get(User, auth_session.user_id) if auth_session else None
    if auth_session is None or auth_session.revoked_at is not None or user is None:
        raise invalid
    now = utcnow()
    # Claim the token with a conditional UPDATE so two concurrent refreshes cannot both win.
    claimed = session.execute(
        update(RefreshToken)
        .where(RefreshToken.token_hash == row.token_hash, RefreshToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if not claimed:
        # A used token coming back means it was copied: end the session on every device.
        auth_session.revoked_at = now
        audit.record(
            session,
            Actor(user.id, user.username, user.role, client_ip()),
            "auth.refresh_reuse",
            object_type="session",
            object_id=auth_session.id,
        )
        session.commit()
        raise invalid
    if row.expires_at < now or not user.active:
        session.commit()
        raise invalid
    return user, _issue(session, auth_session, user)


def logout(session: Session, auth_session_id: str) -> None:
    auth_session = session.get(AuthSession, auth_session_id)
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        session.flush()


def revoke_user_sessions(session: Session, user_id: int) -> None:
    session.execute(
        update(AuthSession)
        .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def is_websocket() -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


def authenticate(session: Session) -> None:
    """Resolve the bearer token into ``g.user``, ``g.auth_session_id`` and ``g.scope``."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header and is_websocket() and request.args.get("access_token"):
        # Browsers cannot set headers on a WebSocket handshake; the token rides in the URL.
        scheme, token = "bearer", request.args["access_token"]
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "auth.required", "请先登录")
    try:
        claims = jwt.decode(
            token.strip(),
            _settings().secret_key,
            algorithms=["HS256"],
            options={"require": ["exp", "sub", "sid"]},
        )
    except jwt.ExpiredSignatureError:
        raise ApiError(401, "auth.token_expired", "登录已过期，请刷新或重新登录") from None
    except jwt.PyJWTError:
        raise ApiError(401, "auth.invalid_token", "登录凭证无效，请重新登录") from None
    sub, sid = str(claims["sub"]), claims["sid"]
    if claims.get("typ") != "access" or not sub.isdigit() or not isinstance(sid, str):
        raise ApiError(401, "auth.invalid_token", "登录凭证无效，请重新登录")
    bind_user(session, int(sub), sid)


def bind_user(session: Session, user_id: int, sid: str) -> None:
    """Set ``g.user``, ``g.auth_session_id`` and ``g.scope`` for a live login session."""
    row = session.execute(
        select(User, AuthSession.revoked_at)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.id == sid, User.id == user_id)
    ).first()
    if row is None or row[1] is not None:
        raise ApiError(401, "auth.session_revoked", "您已退出登录，请重新登录")
    user = row[0]
    if not user.active:
        raise ApiError(403, "auth.account_disabled", "该账号已停用，请联系管理员")
    g.user = user
    g.auth_session_id = sid
    g.scope = scope_for(session, user)


def scope_for(session: Session, user: User) -> Scope:
    if user.role == "admin":
        return Scope.everything()
    if user.area is None:
        return Scope(area_ids=frozenset())
    return Scope.for_area(session, user.area)


def current_actor() -> Actor:
    user = g.get("user")
    return Actor(
        user.id if user else None,
        user.username if user else None,
        user.role if user else None,
        client_ip(),
        user.department_id if user else None,
    )

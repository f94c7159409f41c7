"""Login, throttling, refresh-token rotation, logout and per-request authentication."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select, update

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
CJK = re.compile(r"[\u4e00-\u9fff]")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def audit_actions(admin, action: str) -> list[dict]:
    r = admin.get(f"/api/v1/audit?action={action}&limit=500")
    assert r.status_code == 200, r.get_json()
    return r.get_json()["items"]


def test_login_returns_tokens_and_user(client, make_user, tree, base_config):
    worker = make_user("grid_worker", tree["grid_a"])
    r = client.post(LOGIN, json={"username": worker.username, "password": worker.password})
    assert r.status_code == 200, r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert set(body) >= {"access_token", "refresh_token", "expires_in", "user"}
    assert body["expires_in"] == 30 * 60
    assert body["token_type"] == "Bearer"
    user = body["user"]
    assert user["id"] == worker.id
    assert user["username"] == worker.username
    assert user["role"] == "grid_worker"
    assert user["area"]["code"] == "G1" and user["area"]["name"] == "宝石第一网格"
    claims = jwt.decode(body["access_token"], base_config["SECRET_KEY"], algorithms=["HS256"])
    assert claims["sub"] == str(worker.id) and claims["typ"] == "access"
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    # A fresh login is a separate session with its own tokens.
    assert body["access_token"] != worker.token
    assert body["refresh_token"] != worker.refresh_token
    me = client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["username"] == worker.username
    assert me.get_json()["area"]["code"] == "G1"


def test_admin_without_area_logs_in_with_null_area(admin):
    me = admin.get(ME).get_json()
    assert me["role"] == "admin" and me["area"] is None


def test_username_is_trimmed(client, make_user):
    user = make_user("admin")
    r = client.post(LOGIN, json={"username": f"  {user.username} ", "password": user.password})
    assert r.status_code == 200
    assert r.get_json()["user"]["username"] == user.username


@pytest.mark.parametrize("which", ["wrong_password", "unknown_user"])
def test_bad_credentials_are_401_envelope(client, make_user, which):
    user = make_user("admin")
    username = user.username if which == "wrong_password" else "nobody-here"
    r = client.post(LOGIN, json={"username": username, "password": "Wr0ng-password"})
    assert r.status_code == 401
    err = r.get_json()["error"]
    assert err["code"] == "auth.invalid_credentials"
    assert err["message"] == "用户名或密码错误"
    assert err["details"] == {}
    assert "access_token" not in r.get_data(as_text=True)


def test_login_missing_fields_is_422(client):
    r = client.post(LOGIN, json={"username": "someone"})
    assert r.status_code == 422
    assert r.get_json()["error"]["details"]["fields"] == {"password": ["必填项"]}


def test_repeated_failures_throttle_even_the_right_password(client, make_user):
    user = make_user("admin")
    for _ in range(5):
        r = client.post(LOGIN, json={"username": user.username, "password": "Wr0ng-pass"})
        assert r.status_code == 401
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 429
    err = r.get_json()["error"]
    assert err["code"] == "auth.too_many_attempts"
    assert CJK.search(err["message"]) and "15 分钟" in err["message"]
    retry = int(r.headers["Retry-After"])
    assert 14 * 60 < retry <= 15 * 60
    assert err["details"]["retry_after"] == retry
    # Another account from the same address is not affected by this username's lockout.
    other = make_user("admin")
    ok = client.post(LOGIN, json={"username": other.username, "password": other.password})
    assert ok.status_code == 200


def test_throttle_counts_only_failures_inside_the_window(app, client, make_user, db_session):
    from server.auth.models import LoginFailure

    user = make_user("admin")
    old = datetime.now(UTC) - timedelta(minutes=16)
    db_session.add_all(
        LoginFailure(username=user.username, ip="127.0.0.1", at=old) for _ in range(9)
    )
    recent = datetime.now(UTC) - timedelta(minutes=10)
    db_session.add_all(
        LoginFailure(username=user.username, ip="127.0.0.1", at=recent) for _ in range(4)
    )
    db_session.commit()
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 200, r.get_json()
    # Success clears the username's failures, so five fresh ones are needed to lock again.
    for _ in range(4):
        r = client.post(LOGIN, json={"username": user.username, "password": "x"})
        assert r.status_code == 401
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 200


def test_retry_after_counts_from_the_oldest_failure(client, make_user, db_session):
    from server.auth.models import LoginFailure

    user = make_user("admin")
    at = datetime.now(UTC) - timedelta(minutes=10)
    db_session.add_all(LoginFailure(username=user.username, ip=None, at=at) for _ in range(5))
    db_session.commit()
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 429
    retry = int(r.headers["Retry-After"])
    assert 4 * 60 < retry <= 5 * 60
    assert "5 分钟" in r.get_json()["error"]["message"]


def test_many_failures_from_one_address_throttle_that_address(client, make_user, db_session):
    from server.auth.models import LoginFailure

    user = make_user("admin")
    db_session.add_all(
        LoginFailure(username=f"guess{i}", ip="203.0.113.9", at=datetime.now(UTC))
        for i in range(30)
    )
    db_session.commit()
    creds = {"username": user.username, "password": user.password}
    r = client.post(LOGIN, json=creds, environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert r.status_code == 429
    assert r.headers["Retry-After"]
    r = client.post(LOGIN, json=creds, environ_base={"REMOTE_ADDR": "203.0.113.10"})
    assert r.status_code == 200


def test_forwarded_for_is_trusted_only_behind_configured_proxies(
    app, base_config, make_user, tmp_path
):
    """A directly exposed app ignores X-Forwarded-For, so clients cannot dodge the IP limit."""
    from server import create_app

    user = make_user("admin")
    creds = {"username": user.username, "password": "Wr0ng-pass"}
    direct = app.test_client()
    direct.post(LOGIN, json=creds, headers={"X-Forwarded-For": "198.51.100.1"})
    proxied_app = create_app({**base_config, "DATA_DIR": str(tmp_path), "PROXY_HOPS": 1})
    proxied_app.test_client().post(LOGIN, json=creds, headers={"X-Forwarded-For": "198.51.100.2"})
    session = app.extensions["wangge_sessionmaker"]()
    from server.auth.models import LoginFailure

    ips = sorted(f.ip for f in session.query(LoginFailure).filter_by(username=user.username))
    session.close()
    assert ips == ["127.0.0.1", "198.51.100.2"]


def test_inactive_user_cannot_log_in(client, admin, make_user):
    user = make_user("admin")
    r = admin.patch(f"/api/v1/users/{user.id}", json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 403
    err = r.get_json()["error"]
    assert err["code"] == "auth.account_disabled" and CJK.search(err["message"])
    assert "access_token" not in r.get_json()
    # The wrong password for a disabled account says nothing about the account.
    r = client.post(LOGIN, json={"username": user.username, "password": "Wr0ng-pass"})
    assert r.status_code == 401
    # Its existing session was revoked when it was deactivated.
    assert user.get(ME).status_code == 401
    reasons = [e["details"]["reason"] for e in audit_actions(admin, "auth.login_failed")]
    assert reasons == ["bad_credentials", "inactive"]


def test_logins_and_failures_are_audited(client, admin, make_user):
    user = make_user("admin")
    client.post(
        LOGIN,
        json={"username": user.username, "password": "Wr0ng-pass"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    client.post(LOGIN, json={"username": "ghost-user", "password": "whatever1"})
    failed = audit_actions(admin, "auth.login_failed")
    by_actor = {e["actor"]: e for e in failed}
    assert set(by_actor) == {user.username, "ghost-user"}
    assert by_actor[user.username]["object_id"] == str(user.id)
    assert by_actor[user.username]["ip"] == "198.51.100.7"
    assert by_actor[user.username]["details"] == {"reason": "bad_credentials"}
    assert by_actor["ghost-user"]["actor_id"] is None
    # The attempted password never reaches the audit log.
    assert "Wr0ng-pass" not in str(failed)
    logins = audit_actions(admin, "auth.login")
    assert {e["actor"] for e in logins} == {user.username, admin.username}
    mine = next(e for e in logins if e["actor"] == user.username)
    assert mine["role"] == "admin" and mine["object_id"] == str(user.id)
    assert mine["at"].endswith("+00:00")


def test_refresh_rotates_tokens(client, make_user):
    user = make_user("admin")
    r = client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert r.status_code == 200, r.get_json()
    assert r.headers["Cache-Control"] == "no-store"
    body = r.get_json()
    assert body["refresh_token"] != user.refresh_token
    assert body["expires_in"] == 1800 and body["user"]["username"] == user.username
    assert client.get(ME, headers=bearer(body["access_token"])).status_code == 200
    # The new refresh token works once too.
    r2 = client.post(REFRESH, json={"refresh_token": body["refresh_token"]})
    assert r2.status_code == 200
    assert client.get(ME, headers=bearer(r2.get_json()["access_token"])).status_code == 200


def test_refresh_token_reuse_revokes_the_session(client, make_user, admin):
    user = make_user("admin")
    first = client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    new = first.get_json()
    again = client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "auth.invalid_refresh_token"
    # Everything from that session is dead: old and new access tokens, the new refresh token.
    for token in (user.token, new["access_token"]):
        r = client.get(ME, headers=bearer(token))
        assert r.status_code == 401
        assert r.get_json()["error"]["code"] == "auth.session_revoked"
    assert client.post(REFRESH, json={"refresh_token": new["refresh_token"]}).status_code == 401
    entries = audit_actions(admin, "auth.refresh_reuse")
    assert [e["actor"] for e in entries] == [user.username]
    # Other sessions of the same user survive.
    relog = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert client.get(ME, headers=bearer(relog.get_json()["access_token"])).status_code == 200


def test_unknown_or_empty_refresh_token_is_rejected(client):
    r = client.post(REFRESH, json={"refresh_token": "not-a-real-token"})
    assert r.status_code == 401
    assert r.get_json()["error"]["message"] == "登录已过期，请重新登录"
    r = client.post(REFRESH, json={"refresh_token": ""})
    assert r.status_code == 422
    assert list(r.get_json()["error"]["details"]["fields"]) == ["refresh_token"]


def test_expired_refresh_token_is_rejected(client, make_user, db_session):
    from server.auth.models import RefreshToken

    user = make_user("admin")
    db_session.execute(
        update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    db_session.commit()
    r = client.post(REFRESH, json={"refresh_token": user.refresh_token})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "auth.invalid_refresh_token"


def test_refresh_for_deactivated_user_is_rejected(client, make_user, db_session):
    from ledger.accounts.models import User

    user = make_user("admin")
    db_session.execute(update(User).where(User.id == user.id).values(active=False))
    db_session.commit()
    assert client.post(REFRESH, json={"refresh_token": user.refresh_token}).status_code == 401


def test_logout_revokes_the_session(client, make_user):
    user = make_user("admin")
    other = client.post(LOGIN, json={"username": user.username, "password": user.password})
    other_token = other.get_json()["access_token"]
    r = user.post(LOGOUT)
    assert r.status_code == 204
    r = user.get(ME)
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "auth.session_revoked"
    assert client.post(REFRESH, json={"refresh_token": user.refresh_token}).status_code == 401
    # Logging out on one device leaves the user's other devices logged in.
    assert client.get(ME, headers=bearer(other_token)).status_code == 200
    # Logging out twice is not possible with a revoked token.
    assert user.post(LOGOUT).status_code == 401


def test_logout_needs_a_token(client):
    r = client.post(LOGOUT)
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "auth.required"


def test_token_from_another_secret_or_type_is_rejected(client, make_user, base_config):
    user = make_user("admin")
    claims = jwt.decode(user.token, base_config["SECRET_KEY"], algorithms=["HS256"])
    forged = jwt.encode(claims, "some-other-secret-0123456789-0123456789", algorithm="HS256")
    r = client.get(ME, headers=bearer(forged))
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "auth.invalid_token"
    wrong_type = jwt.encode({**claims, "typ": "refresh"}, base_config["SECRET_KEY"])
    assert client.get(ME, headers=bearer(wrong_type)).status_code == 401
    unsigned = jwt.encode(claims, None, algorithm="none")
    assert client.get(ME, headers=bearer(unsigned)).status_code == 401
    basic = {"Authorization": f"Basic {user.token}"}
    assert client.get(ME, headers=basic).status_code == 401
    assert client.get(ME, headers=bearer(user.token)).status_code == 200


def test_token_with_malformed_subject_is_401_not_500(client, make_user, base_config):
    user = make_user("admin")
    claims = jwt.decode(user.token, base_config["SECRET_KEY"], algorithms=["HS256"])
    for sub in ("abc", ""):
        token = jwt.encode({**claims, "sub": sub}, base_config["SECRET_KEY"], algorithm="HS256")
        r = client.get(ME, headers=bearer(token))
        assert r.status_code == 401, r.get_data(as_text=True)
        assert r.get_json()["error"]["code"] in ("auth.invalid_token", "auth.session_revoked")


def test_token_for_someone_else_session_is_rejected(client, make_user, base_config):
    """The session id and the user id must belong together."""
    a = make_user("admin")
    b = make_user("admin")
    claims_a = jwt.decode(a.token, base_config["SECRET_KEY"], algorithms=["HS256"])
    claims_b = jwt.decode(b.token, base_config["SECRET_KEY"], algorithms=["HS256"])
    mixed = jwt.encode({**claims_a, "sid": claims_b["sid"]}, base_config["SECRET_KEY"])
    assert client.get(ME, headers=bearer(mixed)).status_code == 401


def test_expired_access_token_is_rejected(client, make_user, base_config):
    user = make_user("admin")
    claims = jwt.decode(user.token, base_config["SECRET_KEY"], algorithms=["HS256"])
    past = datetime.now(UTC) - timedelta(minutes=1)
    expired = jwt.encode(
        {**claims, "iat": past - timedelta(minutes=30), "exp": past}, base_config["SECRET_KEY"]
    )
    r = client.get(ME, headers=bearer(expired))
    assert r.status_code == 401
    err = r.get_json()["error"]
    assert err["code"] == "auth.token_expired" and CJK.search(err["message"])


def test_password_is_rehashed_on_login_when_parameters_change(client, make_user, db_session):
    from argon2 import PasswordHasher

    from ledger.accounts.models import User

    user = make_user("admin")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(user.password)
    db_session.execute(update(User).where(User.id == user.id).values(password_hash=weak))
    db_session.commit()
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 200
    db_session.expire_all()
    stored = db_session.scalar(select(User.password_hash).where(User.id == user.id))
    db_session.rollback()  # end the read so the next request can write
    assert stored != weak and "m=19456" in stored
    r = client.post(LOGIN, json={"username": user.username, "password": user.password})
    assert r.status_code == 200

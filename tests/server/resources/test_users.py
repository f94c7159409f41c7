"""User administration: create, validate, list, change roles (audited, sessions revoked)."""

from __future__ import annotations

from datetime import datetime

import pytest

USERS = "/api/v1/users"
LOGIN = "/api/v1/auth/login"


def login(client, username, password):
    return client.post(LOGIN, json={"username": username, "password": password})


def audit(admin, action):
    r = admin.get(f"/api/v1/audit?action={action}")
    assert r.status_code == 200
    return r.get_json()["items"]


def test_admin_creates_user_who_can_log_in(admin, client):
    r = admin.post(
        USERS,
        json={
            "username": "wang.wu",
            "password": "Wangge2024",
            "role": "grid_worker",
            "area": "G2",
            "display_name": "王五",
        },
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["username"] == "wang.wu" and body["role"] == "grid_worker"
    assert body["area"] == {"code": "G2", "name": "宝石第二网格", "level": "grid"}
    assert body["display_name"] == "王五" and body["active"] is True
    assert "password" not in body and "password_hash" not in body
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() is not None and body["created_at"].endswith("+00:00")

    r = login(client, "wang.wu", "Wangge2024")
    assert r.status_code == 200
    assert r.get_json()["user"]["id"] == body["id"]
    assert r.get_json()["user"]["area"]["code"] == "G2"

    entries = audit(admin, f"user.create&actor={admin.username}")
    assert [e["object_id"] for e in entries] == [str(body["id"])]
    assert entries[0]["actor"] == admin.username
    assert entries[0]["details"] == {"username": "wang.wu", "role": "grid_worker", "area": "G2"}
    assert "Wangge2024" not in str(entries)


def test_admin_account_needs_no_area(admin):
    r = admin.post(USERS, json={"username": "root2", "password": "Admin12345", "role": "admin"})
    assert r.status_code == 201
    assert r.get_json()["area"] is None


@pytest.mark.parametrize("password", ["short1", "12345678901", "onlyletters", "abcdefg!"])
def test_weak_password_is_422(admin, client, password):
    r = admin.post(USERS, json={"username": "weakling", "password": password, "role": "admin"})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "validation_error" and err["message"] == "密码强度不足"
    assert err["details"]["fields"]["password"]
    assert all("密码" in m for m in err["details"]["fields"]["password"])
    assert login(client, "weakling", password).status_code == 401
    assert all(u["username"] != "weakling" for u in admin.get(USERS).get_json()["items"])


def test_duplicate_username_is_409(admin):
    body = {"username": "dup-user", "password": "Passw0rd1", "role": "admin"}
    assert admin.post(USERS, json=body).status_code == 201
    r = admin.post(USERS, json={**body, "role": "grid_worker", "area": "G1"})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "users.duplicate_username" and err["message"] == "该用户名已存在"
    same = [u for u in admin.get(USERS).get_json()["items"] if u["username"] == "dup-user"]
    assert len(same) == 1 and same[0]["role"] == "admin"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"username": "has space", "role": "admin"}, "username"),
        ({"username": "用户名", "role": "admin"}, "username"),
        ({"username": "ok-name", "role": "boss"}, "role"),
        ({"username": "ok-name", "role": "grid_worker"}, "area"),
        ({"username": "ok-name", "role": "grid_worker", "area": "C1"}, "area"),
        ({"username": "ok-name", "role": "community_staff", "area": "G1"}, "area"),
        ({"username": "ok-name", "role": "dispatcher", "area": "NOPE"}, "area"),
    ],
)
def test_invalid_accounts_are_422_with_field(admin, body, field):
    r = admin.post(USERS, json={"password": "Passw0rd1", **body})
    assert r.status_code == 422, r.get_json()
    fields = r.get_json()["error"]["details"]["fields"]
    assert list(fields) == [field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(fields[field]))


def test_missing_fields_are_listed(admin):
    r = admin.post(USERS, json={})
    assert r.status_code == 422
    fields = r.get_json()["error"]["details"]["fields"]
    assert fields == {"username": ["必填项"], "password": ["必填项"], "role": ["必填项"]}


def test_non_admin_cannot_create_users(staff, client):
    r = staff.post(USERS, json={"username": "sneaky", "password": "Passw0rd1", "role": "admin"})
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "auth.forbidden"
    assert login(client, "sneaky", "Passw0rd1").status_code == 401


def test_list_and_filter_users(admin, worker_a, worker_b, staff):
    items = admin.get(USERS).get_json()["items"]
    assert {u["username"] for u in items} == {
        admin.username,
        worker_a.username,
        worker_b.username,
        staff.username,
    }
    workers = admin.get(f"{USERS}?role=grid_worker").get_json()["items"]
    assert {u["username"] for u in workers} == {worker_a.username, worker_b.username}
    in_g2 = admin.get(f"{USERS}?area=G2").get_json()["items"]
    assert [u["username"] for u in in_g2] == [worker_b.username]
    assert admin.get(f"{USERS}?role=boss").status_code == 422


def test_get_user_and_404(admin, worker_a):
    r = admin.get(f"{USERS}/{worker_a.id}")
    assert r.status_code == 200
    assert r.get_json()["username"] == worker_a.username
    missing = admin.get(f"{USERS}/999999")
    assert missing.status_code == 404
    err = missing.get_json()["error"]
    assert err["code"] == "users.not_found" and err["message"] == "找不到该用户"


def test_role_change_is_audited_and_revokes_sessions(admin, worker_a, client):
    r = admin.patch(f"{USERS}/{worker_a.id}", json={"role": "community_staff", "area": "C1"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["role"] == "community_staff"
    assert r.get_json()["area"]["code"] == "C1"
    # The old token and refresh token carried the old rights; both stop working at once.
    denied = worker_a.get("/api/v1/auth/me")
    assert denied.status_code == 401
    assert denied.get_json()["error"]["code"] == "auth.session_revoked"
    r = client.post("/api/v1/auth/refresh", json={"refresh_token": worker_a.refresh_token})
    assert r.status_code == 401
    entries = audit(admin, "user.role_change")
    assert len(entries) == 1
    entry = entries[0]
    assert entry["object_type"] == "user" and entry["object_id"] == str(worker_a.id)
    assert entry["actor"] == admin.username and entry["role"] == "admin"
    assert entry["details"] == {
        "before": {"role": "grid_worker", "area": "G1"},
        "after": {"role": "community_staff", "area": "C1"},
    }
    again = login(client, worker_a.username, worker_a.password)
    assert again.get_json()["user"]["role"] == "community_staff"


def test_area_change_alone_is_audited_and_revokes(admin, worker_a):
    r = admin.patch(f"{USERS}/{worker_a.id}", json={"area": "G3"})
    assert r.status_code == 200 and r.get_json()["area"]["code"] == "G3"
    assert worker_a.get("/api/v1/auth/me").status_code == 401
    [entry] = audit(admin, "user.role_change")
    assert entry["details"]["after"] == {"role": "grid_worker", "area": "G3"}


def test_invalid_role_change_changes_nothing(admin, worker_a):
    # A grid worker promoted to staff must move to a community too.
    r = admin.patch(f"{USERS}/{worker_a.id}", json={"role": "community_staff"})
    assert r.status_code == 422
    assert "area" in r.get_json()["error"]["details"]["fields"]
    assert admin.get(f"{USERS}/{worker_a.id}").get_json()["role"] == "grid_worker"
    assert worker_a.get("/api/v1/auth/me").status_code == 200
    assert audit(admin, "user.role_change") == []


def test_display_name_change_keeps_sessions(admin, worker_a):
    r = admin.patch(f"{USERS}/{worker_a.id}", json={"display_name": "张网格"})
    assert r.status_code == 200 and r.get_json()["display_name"] == "张网格"
    assert worker_a.get("/api/v1/auth/me").status_code == 200
    assert audit(admin, "user.role_change") == []


def test_same_role_patch_is_not_a_role_change(admin, worker_a):
    r = admin.patch(f"{USERS}/{worker_a.id}", json={"role": "grid_worker", "area": "G1"})
    assert r.status_code == 200
    assert audit(admin, "user.role_change") == []


def test_password_reset(admin, worker_a, client):
    url = f"{USERS}/{worker_a.id}"
    weak = admin.patch(url, json={"password": "weak"})
    assert weak.status_code == 422
    assert "password" in weak.get_json()["error"]["details"]["fields"]
    assert worker_a.get("/api/v1/auth/me").status_code == 200

    assert admin.patch(url, json={"password": "N3w-password"}).status_code == 200
    assert worker_a.get("/api/v1/auth/me").status_code == 401
    assert login(client, worker_a.username, worker_a.password).status_code == 401
    assert login(client, worker_a.username, "N3w-password").status_code == 200
    [entry] = audit(admin, "user.update")
    assert entry["details"]["password_changed"] is True
    assert "N3w-password" not in str(entry)


def test_deactivate_and_reactivate(admin, worker_a, client):
    url = f"{USERS}/{worker_a.id}"
    assert admin.patch(url, json={"active": False}).get_json()["active"] is False
    assert worker_a.get("/api/v1/auth/me").status_code == 401
    assert login(client, worker_a.username, worker_a.password).status_code == 403
    assert admin.patch(url, json={"active": True}).get_json()["active"] is True
    assert login(client, worker_a.username, worker_a.password).status_code == 200
    entries = audit(admin, "user.update")
    assert [e["details"]["active"] for e in entries] == [True, False]


def test_patch_unknown_user_and_unknown_field(admin):
    r = admin.patch(f"{USERS}/424242", json={"role": "admin"})
    assert r.status_code == 404
    r = admin.patch(f"{USERS}/424242", json={"username": "rename"})
    assert r.status_code == 422
    assert r.get_json()["error"]["details"]["fields"] == {"username": ["不支持的字段"]}

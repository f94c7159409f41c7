"""Ledger templates over HTTP: built-ins, admin-defined ledgers, versions and archiving."""

from __future__ import annotations

import pytest

URL = "/api/v1/ledgers"

ELDERLY = {
    "code": "elderly_visits",
    "name": "高龄老人走访台账",
    "fields": [
        {"key": "person", "label": "老人", "type": "person", "required": True},
        {"key": "name", "label": "姓名", "type": "text", "source": "person.name"},
        {"key": "visit_date", "label": "走访日期", "type": "date", "required": True},
        {"key": "health", "label": "身体状况", "type": "choice", "options": ["良好", "一般", "差"]},
    ],
}


@pytest.fixture
def builtin_ledgers(app):
    """The built-in ledgers, installed as init-db installs them."""
    from ledger.ledgers.builtin import install_in

    with app.extensions["wangge_sessionmaker"]() as session:
        added = install_in(session)
        session.commit()
    return added


def test_builtin_ledgers_are_listed_for_everyone(builtin_ledgers, worker_a):
    assert builtin_ledgers == ["population", "key_groups", "visit_log", "rental_housing",
                               "disputes", "hazards"]  # fmt: skip
    r = worker_a.get(URL)
    assert r.status_code == 200
    items = {t["code"]: t for t in r.get_json()["items"]}
    assert items["visit_log"]["name"] == "走访记录台账"
    assert items["population"]["kind"] == "registry"
    assert all(t["builtin"] and t["version"] == 1 for t in items.values())
    keys = [f["key"] for f in items["visit_log"]["fields"]]
    assert keys[:3] == ["visit_date", "person", "visited_name"]
    situation = next(f for f in items["visit_log"]["fields"] if f["key"] == "situation")
    assert situation["type"] == "longtext" and situation["required"] is True


def test_admin_defines_and_changes_a_ledger_in_versions(admin, worker_a, builtin_ledgers):
    r = worker_a.post(URL, json=ELDERLY)
    assert r.status_code == 403
    r = admin.post(URL, json=ELDERLY)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["version"] == 1 and r.headers["ETag"] == '"1"'
    assert body["fields"][3]["options"][0] == {"value": "良好", "label": "良好"}
    assert admin.post(URL, json=ELDERLY).get_json()["error"]["code"] == "ledgers.exists"

    changed = [*ELDERLY["fields"], {"key": "notes", "label": "备注", "type": "longtext"}]
    r = admin.patch(f"{URL}/elderly_visits", json={"fields": changed})
    assert r.status_code == 428  # without If-Match
    r = admin.patch(f"{URL}/elderly_visits", json={"fields": changed}, headers={"If-Match": "1"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["version"] == 2 and len(r.get_json()["fields"]) == 5
    # Renaming alone is no new version of the fields.
    r = admin.patch(f"{URL}/elderly_visits", json={"name": "高龄老人关爱走访台账"},
                    headers={"If-Match": "2"})  # fmt: skip
    assert r.get_json()["version"] == 2
    stale = admin.patch(f"{URL}/elderly_visits", json={"name": "x"}, headers={"If-Match": "1"})
    assert stale.status_code == 412
    old = admin.get(f"{URL}/elderly_visits", query_string={"version": 1}).get_json()
    assert old["fields_version"] == 1 and len(old["fields"]) == 4
    assert [v["version"] for v in old["versions"]] == [1, 2]
    assert admin.get(f"{URL}/elderly_visits", query_string={"version": 7}).status_code == 404


def test_a_key_keeps_its_type_across_versions(admin, builtin_ledgers):
    admin.post(URL, json=ELDERLY)
    fields = [f for f in ELDERLY["fields"] if f["key"] != "health"]
    r = admin.patch(f"{URL}/elderly_visits", json={"fields": fields}, headers={"If-Match": "1"})
    assert r.get_json()["version"] == 2
    # "health" was a choice in version 1: it cannot come back as a number.
    back = [*fields, {"key": "health", "label": "健康评分", "type": "integer"}]
    r = admin.patch(f"{URL}/elderly_visits", json={"fields": back}, headers={"If-Match": "2"})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "ledgers.invalid_template"
    assert "单选" in err["details"]["fields"]["health"][0]


def test_bad_templates_get_field_errors(admin):
    bad = {**ELDERLY, "code": "Bad Code", "fields": [{"key": "x", "label": "", "type": "text"}]}
    r = admin.post(URL, json=bad)
    assert r.status_code == 422
    assert "code" in r.get_json()["error"]["details"]["fields"]
    r = admin.post(URL, json={**ELDERLY, "fields": [{"key": "x", "label": "甲", "type": "text"}]}
                   | {"code": "ok_code", "name": ""})  # fmt: skip
    assert r.status_code == 422 and "name" in r.get_json()["error"]["details"]["fields"]
    r = admin.post(URL, json={**ELDERLY, "code": "c2", "fields": [{"key": "x", "label": "甲"}]})
    assert r.status_code == 422


def test_archiving_hides_a_ledger_but_builtins_stay(admin, builtin_ledgers, worker_a):
    admin.post(URL, json=ELDERLY)
    assert worker_a.delete(f"{URL}/elderly_visits").status_code == 403
    assert admin.delete(f"{URL}/elderly_visits").status_code == 204
    codes = [t["code"] for t in admin.get(URL).get_json()["items"]]
    assert "elderly_visits" not in codes
    archived = admin.get(URL, query_string={"archived": "true"}).get_json()["items"]
    assert any(t["code"] == "elderly_visits" and t["archived"] for t in archived)
    r = admin.delete(f"{URL}/visit_log")
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "ledgers.builtin"
    audit = admin.get("/api/v1/audit", query_string={"action": "ledger.template_archive"})
    assert audit.status_code == 200
    assert [e["object_id"] for e in audit.get_json()["items"]] == ["elderly_visits"]

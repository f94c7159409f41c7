"""Departments, the category tree and department_staff accounts, managed through the API."""

from __future__ import annotations

from ledger.reports import taxonomy
from tests.plugins.reports import URL


def test_departments_are_managed_by_admins(loop):
    listed = loop.dispatcher.get("/api/v1/departments").get_json()["items"]
    assert {d["code"] for d in listed} == set(taxonomy.DEPARTMENTS)
    body = {"code": "gongan_jiaojing", "name": "交警大队", "phone": "0571-12345678"}
    assert loop.dispatcher.post("/api/v1/departments", json=body).status_code == 403
    r = loop.admin.post("/api/v1/departments", json=body)
    assert r.status_code == 201 and r.get_json()["name"] == "交警大队"
    again = loop.admin.post("/api/v1/departments", json=body)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "departments.duplicate"
    bad = loop.admin.post("/api/v1/departments", json={"code": "城管", "name": "x"})
    assert bad.status_code == 422
    r = loop.admin.patch("/api/v1/departments/gongan_jiaojing", json={"name": "交警二大队"},
                         headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200 and r.get_json()["version"] == 2
    stale = loop.admin.patch("/api/v1/departments/gongan_jiaojing", json={"name": "x"},
                             headers={"If-Match": "1"})  # fmt: skip
    assert stale.status_code == 412
    assert loop.admin.get("/api/v1/departments/nope").status_code == 404


def test_a_department_with_open_cases_cannot_be_retired(loop):
    rid = loop.in_state("dispatched")["id"]
    r = loop.admin.patch("/api/v1/departments/huanwei", json={"active": False})
    assert r.status_code == 409 and r.get_json()["error"]["details"]["open_reports"] == 1
    # 物业 has no cases: retired, it leaves the list and cannot be dispatched to.
    r = loop.admin.patch("/api/v1/departments/wuye", json={"active": False})
    assert r.status_code == 200 and r.get_json()["active"] is False
    codes = {d["code"] for d in loop.admin.get("/api/v1/departments").get_json()["items"]}
    assert "wuye" not in codes
    everything = loop.admin.get("/api/v1/departments?include_inactive=true").get_json()["items"]
    assert "wuye" in {d["code"] for d in everything}
    r = loop.act(loop.dispatcher, rid, "dispatch", department="wuye")
    assert r.status_code == 422


def test_the_category_tree(loop):
    items = loop.worker.get("/api/v1/report-categories").get_json()["items"]
    assert len(items) == len(taxonomy.TOP) + len(taxonomy.LEAVES)
    by_code = {c["code"]: c for c in items}
    garbage = by_code["event.city.garbage"]
    assert garbage["path"] == "市容环境/暴露垃圾" and garbage["leaf"] is True
    assert garbage["department"] == "huanwei" and garbage["deadlines"]["resolve"] == 72
    assert by_code["event.city"]["leaf"] is False
    for name in ("市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "公用设施", "道路交通",
                 "园林绿化", "矛盾纠纷", "安全隐患", "民生服务", "特殊人群"):  # fmt: skip
        assert name in {c["name"] for c in items if not c["leaf"]}


def test_admins_adapt_categories_and_deadlines_apply_to_new_reports(loop):
    change = {"deadlines": {"accept": 0.5}, "department": "chengguan"}
    r = loop.admin.patch("/api/v1/report-categories/event.city.garbage", json=change)
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["deadlines"]["accept"] == 0.5
    assert r.get_json()["deadlines"]["resolve"] == 72
    bad = loop.admin.patch("/api/v1/report-categories/event.city.garbage",
                           json={"deadlines": {"lunch": 1}})  # fmt: skip
    assert bad.status_code == 422
    report = loop.report()
    assert report["suggested_department"] == "chengguan"
    made = loop.admin.post("/api/v1/report-categories", json={
        "code": "event.city.pets", "name": "宠物粪便", "parent": "event.city",
        "department": "huanwei", "keywords": ["狗屎", "宠物"]})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["path"] == "市容环境/宠物粪便"
    assert made.get_json()["deadlines"] == {"accept": 2, "dispatch": 2, "resolve": 72, "verify": 24}
    third = loop.admin.post("/api/v1/report-categories", json={
        "code": "event.city.pets.dogs", "name": "狗", "parent": "event.city.pets"})  # fmt: skip
    assert third.status_code == 422
    assert loop.worker.post("/api/v1/report-categories", json={
        "code": "x.y", "name": "y"}).status_code == 403  # fmt: skip
    r = loop.worker.post(URL, json={"category": "event.city.pets", "title": "草坪上很多狗屎"})
    assert r.status_code == 201
    loop.admin.patch("/api/v1/report-categories/event.city.pets", json={"active": False})
    r = loop.worker.post(URL, json={"category": "event.city.pets", "title": "又有狗屎"})
    assert r.status_code == 422


def test_department_staff_accounts_need_a_department(loop, tree):
    base = {"username": "dept1", "password": "Passw0rd-abc123", "role": "department_staff",
            "area": "D1"}  # fmt: skip
    r = loop.admin.post("/api/v1/users", json=base)
    assert r.status_code == 422 and "department" in r.get_json()["error"]["details"]["fields"]
    r = loop.admin.post("/api/v1/users", json={**base, "department": "huanwei"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["department"] == {"code": "huanwei", "name": "环卫"}
    worker = {**base, "username": "w9", "role": "grid_worker", "area": "G1"}
    r = loop.admin.post("/api/v1/users", json={**worker, "department": "huanwei"})
    assert r.status_code == 422
    me = loop.huanwei.get("/api/v1/auth/me").get_json()
    assert me["role"] == "department_staff" and me["department"]["code"] == "huanwei"
    # Moving a department worker to another role drops the department.
    uid = loop.admin.get("/api/v1/users?role=department_staff").get_json()["items"][0]["id"]
    r = loop.admin.patch(f"/api/v1/users/{uid}", json={"role": "dispatcher"})
    assert r.status_code == 200 and r.get_json()["department"] is None

"""Residents API: validation, scope, versions, masking, reveal audit and listing."""

from __future__ import annotations

import uuid
from datetime import date

from tests.conftest import make_id_number


def test_create_and_get_masks_pii(worker_a, id_number):
    number = make_id_number(date(1990, 5, 17), "女", region="330106")
    r = worker_a.post(
        "/api/v1/people",
        json={
            "name": "李四",
            "id_number": number,
            "phone": "13812345678",
            "ethnicity": "汉族",
            "area": worker_a.area,
            "tags": ["独居老人", "低保", "独居老人"],
            "residence_type": "流动",
        },
    )
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id_number"] == number[:6] + "********" + number[-4:]
    assert body["phone"] == "138****5678"
    assert body["sex"] == "女" and body["birth_date"] == "1990-05-17"
    assert body["ethnicity"] == "汉"
    assert body["tags"] == ["独居老人", "低保"]
    assert body["version"] == 1 and body["created_by"] == worker_a.username
    assert body["created_at"].endswith("+00:00")
    assert r.headers["ETag"] == '"1"'

    got = worker_a.get(f"/api/v1/people/{body['id']}")
    assert got.status_code == 200
    assert got.get_json()["id_number"] == body["id_number"]
    assert number not in got.get_data(as_text=True)


def test_client_generated_id_is_kept(worker_a, make_person):
    pid = str(uuid.uuid4())
    person = make_person(id=pid)
    assert person["id"] == pid
    again = worker_a.post(
        "/api/v1/people", json={"id": pid, "name": "王五", "sex": "男", "area": worker_a.area}
    )
    assert again.status_code == 409
    assert again.get_json()["error"]["details"]["existing_id"] == pid


def test_bad_id_number_is_422_with_field(worker_a):
    number = make_id_number()
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    for bad in (wrong, number[:17], "99" + number[2:], "abc"):
        r = worker_a.post("/api/v1/people", json={"name": "赵六", "id_number": bad, "area": "G1"})
        assert r.status_code == 422, bad
        err = r.get_json()["error"]
        assert err["code"] == "people.invalid_id_number"
        assert "id_number" in err["details"]["fields"]


def test_birth_date_and_sex_must_agree(worker_a):
    number = make_id_number(date(1985, 1, 2), "男")
    r = worker_a.post(
        "/api/v1/people",
        json={
            "name": "钱七",
            "id_number": number,
            "sex": "女",
            "birth_date": "1985-01-03",
            "area": worker_a.area,
        },
    )
    assert r.status_code == 422
    fields = r.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"sex", "birth_date"}


def test_duplicate_id_number_is_409_with_existing_id(worker_a, worker_b, make_person):
    number = make_id_number()
    first = make_person(id_number=number)
    # Lower-case x and full-width digits still count as the same number.
    variant = number.translate(str.maketrans("0123456789", "０１２３４５６７８９")).lower()
    r = worker_b.post("/api/v1/people", json={"name": "孙八", "id_number": variant, "area": "G2"})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "people.duplicate_id_number"
    assert err["details"]["existing_id"] == first["id"]
    assert err["message"] == "该身份证号已登记"


def test_grid_worker_cannot_see_or_modify_other_grid(worker_a, worker_b, make_person):
    person = make_person()
    url = f"/api/v1/people/{person['id']}"
    assert worker_b.get(url).status_code == 404
    r = worker_b.patch(url, json={"name": "改名"}, headers={"If-Match": "1"})
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "people.not_found"
    assert worker_b.get("/api/v1/people").get_json()["items"] == []
    # Nor may they register people into grid A.
    r = worker_b.post("/api/v1/people", json={"name": "周九", "sex": "男", "area": worker_a.area})
    assert r.status_code == 422
    assert "area" in r.get_json()["error"]["details"]["fields"]
    assert worker_a.get(url).get_json()["name"] == "张三"


def test_staff_sees_whole_community(staff, make_person, worker_b):
    a = make_person()
    b = make_person(user=worker_b)
    ids = {p["id"] for p in staff.get("/api/v1/people").get_json()["items"]}
    assert ids == {a["id"], b["id"]}


def test_patch_requires_matching_if_match(worker_a, make_person):
    person = make_person()
    url = f"/api/v1/people/{person['id']}"
    assert worker_a.patch(url, json={"notes": "x"}).status_code == 428
    r = worker_a.patch(url, json={"notes": "x"}, headers={"If-Match": "7"})
    assert r.status_code == 412
    assert r.get_json()["error"]["code"] == "version_mismatch"
    ok = worker_a.patch(
        url, json={"notes": "走访正常", "phone": "139 0000 1111"}, headers={"If-Match": '"1"'}
    )
    assert ok.status_code == 200
    assert ok.get_json()["version"] == 2 and ok.headers["ETag"] == '"2"'
    assert ok.get_json()["phone"] == "139****1111"
    stale = worker_a.patch(url, json={"notes": "y"}, headers={"If-Match": "1"})
    assert stale.status_code == 412
    assert worker_a.get(url).get_json()["notes"] == "走访正常"


def test_reveal_returns_full_and_audits(worker_a, admin, dispatcher, make_person):
    number = make_id_number()
    person = make_person(id_number=number, phone="13700001234")
    r = worker_a.get(f"/api/v1/people/{person['id']}?reveal=1")
    assert r.status_code == 200
    assert r.get_json()["id_number"] == number
    assert r.get_json()["phone"] == "13700001234"
    assert r.headers["Cache-Control"] == "no-store"
    audit = admin.get("/api/v1/audit?action=person.reveal").get_json()["items"]
    assert len(audit) == 1
    assert audit[0]["actor"] == worker_a.username and audit[0]["object_id"] == person["id"]
    assert number not in str(audit)
    # Dispatchers route reports; they may not unmask residents.
    denied = dispatcher.get(f"/api/v1/people/{person['id']}?reveal=1")
    assert denied.status_code == 403
    assert dispatcher.get(f"/api/v1/people/{person['id']}").status_code == 200


def test_delete_is_audited_and_restricted(worker_a, staff, admin, make_person):
    person = make_person()
    url = f"/api/v1/people/{person['id']}"
    assert worker_a.delete(url).status_code == 403
    assert staff.delete(url).status_code == 204
    assert staff.get(url).status_code == 404
    entries = admin.get("/api/v1/audit?action=person.delete").get_json()["items"]
    assert [e["object_id"] for e in entries] == [person["id"]]


def test_list_filters_and_cursor(worker_a, staff, make_person, worker_b):
    number = make_id_number()
    made = [make_person(name=f"王{i}", tags=["低保"] if i % 2 else []) for i in range(5)]
    target = make_person(name="刘备", id_number=number, phone="13600000000")
    other = make_person(user=worker_b, name="王其他")
    q = staff.get("/api/v1/people?name=王&limit=2").get_json()
    seen = [p["id"] for p in q["items"]]
    while q["next_cursor"]:
        q = staff.get(f"/api/v1/people?name=王&limit=2&cursor={q['next_cursor']}").get_json()
        seen += [p["id"] for p in q["items"]]
    assert sorted(seen) == sorted([p["id"] for p in made] + [other["id"]])
    assert len(seen) == len(set(seen))
    tagged = staff.get("/api/v1/people?tag=低保").get_json()["items"]
    assert {p["id"] for p in tagged} == {made[1]["id"], made[3]["id"]}
    exact = staff.get(f"/api/v1/people?id_number={number}").get_json()["items"]
    assert [p["id"] for p in exact] == [target["id"]]
    by_phone = staff.get("/api/v1/people?phone=13600000000").get_json()["items"]
    assert [p["id"] for p in by_phone] == [target["id"]]
    grid_b = staff.get("/api/v1/people?area=G2").get_json()["items"]
    assert [p["id"] for p in grid_b] == [other["id"]]
    # Worker A filtering by grid B sees nothing rather than grid B's people.
    assert worker_a.get("/api/v1/people?area=G2").get_json()["items"] == []
    bad = staff.get("/api/v1/people?cursor=garbage!")
    assert bad.status_code == 422


def test_validation_errors_list_fields_in_chinese(worker_a):
    r = worker_a.post("/api/v1/people", json={"sex": "未知", "tags": "x", "bogus": 1})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "validation_error"
    fields = err["details"]["fields"]
    assert {"name", "area", "sex", "tags", "bogus"} <= set(fields)
    assert fields["name"] == ["必填项"]
    assert fields["bogus"] == ["不支持的字段"]


def test_ethnicity_and_sex_required_rules(worker_a):
    r = worker_a.post("/api/v1/people", json={"name": "无名", "area": worker_a.area})
    assert r.status_code == 422 and "sex" in r.get_json()["error"]["details"]["fields"]
    r = worker_a.post(
        "/api/v1/people", json={"name": "无名", "sex": "男", "ethnicity": "火星", "area": "G1"}
    )
    assert r.status_code == 422 and "ethnicity" in r.get_json()["error"]["details"]["fields"]


def test_patching_tags_updates_list_and_filter(worker_a, staff, make_person):
    person = make_person(tags=["低保", "残疾人"])
    url = f"/api/v1/people/{person['id']}"
    r = worker_a.patch(url, json={"tags": ["残疾人", "退役军人"]}, headers={"If-Match": "1"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["tags"] == ["残疾人", "退役军人"]
    assert worker_a.get(url).get_json()["tags"] == ["残疾人", "退役军人"]
    assert staff.get("/api/v1/people?tag=低保").get_json()["items"] == []
    veterans = staff.get("/api/v1/people?tag=退役军人").get_json()["items"]
    assert [p["id"] for p in veterans] == [person["id"]]
    assert veterans[0]["tags"] == ["残疾人", "退役军人"]

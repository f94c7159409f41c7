"""Ledger templates over HTTP: built-ins, admin-defined ledgers, versions and archiving."""

from __future__ import annotations

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


def entry_url(code, entry_id=None):
    return f"{URL}/{code}/entries" + (f"/{entry_id}" if entry_id else "")


def visit(user, **data):
    body = {"visit_date": "2026-11-03", "visited_name": "王芳", "purpose": "日常走访",
            "situation": "身体良好，独自居住", "visitor": "李网格", **data}  # fmt: skip
    return {"area": user.area, "data": body}


def test_entries_validate_against_the_template_and_prefill_from_the_resident(
    builtin_ledgers, worker_a, make_person, id_number
):
    number = id_number()
    person = make_person(name="赵大爷", id_number=number, phone="13900001234",
                         current_address="宝石一路8号")  # fmt: skip
    body = {"area": worker_a.area, "data": {"person": person["id"], "categories": ["独居老人"]}}
    r = worker_a.post(entry_url("key_groups"), json=body)
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    assert entry["data"]["name"] == "赵大爷" and entry["data"]["address"] == "宝石一路8号"
    # Personal values prefilled too, and masked like everywhere else.
    assert entry["data"]["id_number"] == number[:6] + "********" + number[-4:]
    assert entry["data"]["phone"] == "139****1234" and entry["masked"] is True
    assert entry["version"] == 1 and entry["template_version"] == 1
    # A multiple choice filters by any one of its values.
    for wanted, found in (("独居老人", 1), ("低保", 0)):
        r = worker_a.get(entry_url("key_groups"), query_string={"data.categories": wanted})
        assert len(r.get_json()["items"]) == found

    r = worker_a.post(entry_url("visit_log"), json=visit(worker_a, purpose="闲聊", visitor=""))
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "ledgers.invalid_entry"
    assert set(err["details"]["fields"]) == {"purpose", "visitor"}
    r = worker_a.post(entry_url("population"), json=visit(worker_a))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "ledgers.read_only"


def test_personal_values_are_encrypted_at_rest_and_revealed_with_an_audit(
    app, builtin_ledgers, worker_a, staff, admin, make_user, tree, id_number
):
    from sqlalchemy import text

    number = id_number()
    body = {"area": worker_a.area, "data": {"address": "宝石二路3号", "landlord_name": "钱房东",
                                            "landlord_id_number": number}}  # fmt: skip
    entry = worker_a.post(entry_url("rental_housing"), json=body).get_json()
    with app.extensions["wangge_engine"].connect() as conn:
        row = conn.execute(text("SELECT data, personal_enc FROM ledger_entries")).one()
    assert number not in str(row.data) and number.encode() not in bytes(row.personal_enc)
    # Found by the full number (or a phone) through its blind index, never by plaintext.
    for query, found in ((number, 1), (number.lower(), 1), (id_number(), 0)):
        r = staff.get(entry_url("rental_housing"), query_string={"data.landlord_id_number": query})
        assert r.status_code == 200 and len(r.get_json()["items"]) == found
    r = staff.get(entry_url("rental_housing"), query_string={"data.landlord_id_number": "123"})
    assert r.status_code == 422
    r = staff.get(entry_url("rental_housing", entry["id"]), query_string={"reveal": 1})
    assert r.status_code == 200 and r.get_json()["data"]["landlord_id_number"] == number
    log = admin.get("/api/v1/audit", query_string={"action": "ledger.entry_reveal"}).get_json()
    assert [(e["object_id"], e["actor"]) for e in log["items"]] == [(entry["id"], staff.username)]
    # Without reveal, and for roles that may not reveal, the number stays masked.
    assert (
        staff.get(entry_url("rental_housing", entry["id"])).get_json()["data"]["landlord_id_number"]
        == number[:6] + "********" + number[-4:]
    )
    dispatcher = make_user("dispatcher", tree["community"])
    r = dispatcher.get(entry_url("rental_housing", entry["id"]), query_string={"reveal": 1})
    assert r.status_code == 403
    # The blind indexes go with the entry.
    assert staff.delete(entry_url("rental_housing", entry["id"])).status_code == 204
    with app.extensions["wangge_engine"].connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_entry_keys")).scalar() == 0


def test_edit_delete_and_scope(builtin_ledgers, worker_a, worker_b, staff, admin):
    entry = worker_a.post(entry_url("visit_log"), json=visit(worker_a)).get_json()
    url = entry_url("visit_log", entry["id"])
    assert worker_b.get(url).status_code == 404
    assert worker_b.patch(url, json={"data": {"visitor": "x"}},
                          headers={"If-Match": "1"}).status_code == 404  # fmt: skip
    r = worker_a.patch(url, json={"data": {"follow_up": "下周复访"}}, headers={"If-Match": "1"})
    assert r.status_code == 200, r.get_json()
    assert (
        r.get_json()["version"] == 2 and r.get_json()["data"]["situation"] == "身体良好，独自居住"
    )
    assert worker_a.patch(url, json={"data": {"situation": ""}},
                          headers={"If-Match": "2"}).status_code == 422  # fmt: skip
    assert worker_a.patch(url, json={"data": {}}, headers={"If-Match": "1"}).status_code == 412
    assert worker_a.delete(url).status_code == 403  # grid workers do not delete entries
    assert staff.delete(url, headers={"If-Match": "2"}).status_code == 204
    assert staff.get(url).status_code == 404
    log = admin.get("/api/v1/audit", query_string={"action": "ledger.entry_delete"}).get_json()
    assert [e["object_id"] for e in log["items"]] == [entry["id"]]


def test_lists_filter_by_area_date_value_and_text(builtin_ledgers, worker_a, worker_b, staff):
    visits = [("2026-10-02", "日常走访", "屋顶漏水"), ("2026-11-05", "困难帮扶", "申请低保"),
              ("2026-11-20", "日常走访", "一切正常")]  # fmt: skip
    for day, purpose, text in visits:
        r = worker_a.post(
            entry_url("visit_log"),
            json=visit(worker_a, visit_date=day, purpose=purpose, situation=text),
        )
        assert r.status_code == 201
    worker_b.post(entry_url("visit_log"), json=visit(worker_b, situation="屋顶漏水"))

    def situations(user, **query):
        r = user.get(entry_url("visit_log"), query_string=query)
        assert r.status_code == 200, r.get_json()
        return [e["data"]["situation"] for e in r.get_json()["items"]]

    assert situations(worker_a) == ["一切正常", "申请低保", "屋顶漏水"]
    assert len(situations(staff)) == 4 and situations(staff, area=worker_b.area) == ["屋顶漏水"]
    assert situations(worker_a, date_from="2026-11-01") == ["一切正常", "申请低保"]
    assert situations(worker_a, date_to="2026-11-10", date_from="2026-11-01") == ["申请低保"]
    assert situations(worker_a, **{"data.purpose": "日常走访"}) == ["一切正常", "屋顶漏水"]
    assert situations(worker_a, q="漏水") == ["屋顶漏水"]
    assert situations(worker_a, q="帮扶") == ["申请低保"]  # a choice's label is searchable
    r = worker_a.get(entry_url("visit_log"), query_string={"data.photos": "x", "colour": "1"})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["details"]["fields"]) == {"colour"}
    r = worker_a.get(entry_url("visit_log"), query_string={"data.photos": "x"})
    assert r.status_code == 422 and "photos" in r.get_json()["error"]["details"]["fields"]
    page = worker_a.get(entry_url("visit_log"), query_string={"limit": 2}).get_json()
    query = {"limit": 2, "cursor": page["next_cursor"]}
    rest = worker_a.get(entry_url("visit_log"), query_string=query).get_json()
    assert [e["data"]["situation"] for e in page["items"] + rest["items"]] == situations(worker_a)
    assert rest["next_cursor"] is None


def test_lists_run_newest_first_by_the_ledgers_own_date(builtin_ledgers, admin, worker_a):
    # Typed in any order, listed like the paper ledger read backwards: by the visit's date.
    for day, text in [("2026-11-05", "二"), ("2026-11-20", "三"), ("2026-10-02", "一"),
                      ("2026-11-05", "二补")]:  # fmt: skip
        body = visit(worker_a, visit_date=day, situation=text)
        assert worker_a.post(entry_url("visit_log"), json=body).status_code == 201
    seen, cursor = [], None
    while True:
        query = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = worker_a.get(entry_url("visit_log"), query_string=query).get_json()
        seen += [e["data"]["situation"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Same day: the later entry first.
    assert seen == ["三", "二补", "二", "一"]
    r = worker_a.get(entry_url("visit_log"), query_string={"cursor": "bm90LWEtY3Vyc29y"})
    assert r.status_code == 422 and "cursor" in r.get_json()["error"]["details"]["fields"]

    # A ledger without a date field is dated by the day of entry, so date ranges still work.
    fields = [{"key": "note", "label": "事项", "type": "text", "required": True}]
    assert admin.post(URL, json={"code": "notes", "name": "事项台账",
                                 "fields": fields}).status_code == 201  # fmt: skip
    body = {"area": worker_a.area, "data": {"note": "楼道灯坏"}}
    assert worker_a.post(entry_url("notes"), json=body).status_code == 201
    from datetime import UTC, datetime, timedelta

    today = (datetime.now(UTC) + timedelta(hours=8)).date().isoformat()
    for query, found in (({"date_from": today}, 1), ({"date_to": "2020-01-01"}, 0)):
        r = worker_a.get(entry_url("notes"), query_string=query)
        assert len(r.get_json()["items"]) == found


def test_old_entries_keep_their_template_version(builtin_ledgers, admin, worker_a):
    admin.post(URL, json=ELDERLY)
    person_free = [f for f in ELDERLY["fields"] if f["type"] != "person" and "source" not in f]
    r = admin.patch(
        f"{URL}/elderly_visits", json={"fields": person_free}, headers={"If-Match": "1"}
    )
    assert r.get_json()["version"] == 2
    body = {"area": worker_a.area, "data": {"visit_date": "2026-11-01", "health": "良好"}}
    entry = worker_a.post(entry_url("elderly_visits"), json=body).get_json()
    assert entry["template_version"] == 2
    new_fields = [
        *person_free,
        {"key": "pulse", "label": "脉搏", "type": "integer", "required": True},
    ]
    admin.patch(f"{URL}/elderly_visits", json={"fields": new_fields}, headers={"If-Match": "2"})
    # Editing the old entry validates against version 2: "pulse" is not required there.
    r = worker_a.patch(entry_url("elderly_visits", entry["id"]), json={"data": {"health": "一般"}},
                       headers={"If-Match": "1"})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["template_version"] == 2 and "pulse" not in r.get_json()["data"]
    r = worker_a.post(entry_url("elderly_visits"), json=body)
    assert r.status_code == 422 and "pulse" in r.get_json()["error"]["details"]["fields"]


def test_summary_counts_by_grid_and_month(builtin_ledgers, worker_a, worker_b, staff, make_user,
                                          tree):  # fmt: skip
    for user, found, closed in [
        (worker_a, "2026-10-02", "2026-11-03"),
        (worker_a, "2026-11-05", None),
        (worker_b, "2026-11-20", None),
    ]:
        body = {"area": user.area, "data": {"found_date": found, "parties": "张三、李四",
                "dispute_type": "邻里纠纷", "description": "噪音", "status": "调处中",
                "closed_date": closed}}  # fmt: skip
        assert user.post(entry_url("disputes"), json=body).status_code == 201
    other = make_user("grid_worker", tree["grid_c"])
    body["area"] = other.area
    other.post(entry_url("disputes"), json=body)  # another community: not counted for staff
    r = staff.get(f"{URL}/disputes/summary")
    assert r.status_code == 200, r.get_json()
    s = r.get_json()
    assert s["total"] == 3
    assert [(a["area"], a["count"]) for a in s["by_area"]] == [(worker_a.area, 2),
                                                               (worker_b.area, 1)]  # fmt: skip
    assert s["by_month"]["found_date"] == [{"month": "2026-10", "count": 1},
                                           {"month": "2026-11", "count": 2}]  # fmt: skip
    assert s["by_month"]["closed_date"] == [{"month": "2026-11", "count": 1}]
    mine = worker_a.get(f"{URL}/disputes/summary").get_json()
    assert mine["total"] == 2
    assert (
        staff.get(f"{URL}/disputes/summary", query_string={"area": worker_b.area}).get_json()[
            "total"
        ]
        == 1
    )
    assert worker_a.get(f"{URL}/disputes/summary", query_string={"area": "G3"}).status_code == 404


def test_population_ledger_is_the_register(builtin_ledgers, worker_a, worker_b, make_person,
                                           id_number):  # fmt: skip
    number = id_number()
    make_person(name="孙阿姨", id_number=number, tags=["独居老人", "低保"])
    make_person(user=worker_b, name="周先生")
    r = worker_a.get(entry_url("population"))
    assert r.status_code == 200, r.get_json()
    (item,) = r.get_json()["items"]
    assert item["data"]["name"] == "孙阿姨" and item["area"] == worker_a.area
    assert item["data"]["id_number"] == number[:6] + "********" + number[-4:]
    assert item["data"]["tags"] == "独居老人、低保" and item["masked"] is True
    assert worker_a.get(entry_url("population"), query_string={"q": "周"}).get_json()["items"] == []
    r = worker_a.get(entry_url("population"), query_string={"data.sex": "女"})
    assert r.status_code == 422


def test_bad_requests_get_clear_errors(builtin_ledgers, client, worker_a, app):
    r = client.get(URL)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "auth.required"
    r = worker_a.post(entry_url("visit_log"), data="{not json",
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400 and r.get_json()["error"]["message"]
    r = worker_a.post(entry_url("visit_log"), json={"area": worker_a.area, "data": "走访"})
    assert r.status_code == 422 and "data" in r.get_json()["error"]["details"]["fields"]
    r = worker_a.post(entry_url("no_such_ledger"), json=visit(worker_a))
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "ledgers.not_found"
    r = worker_a.post(entry_url("visit_log"), json=visit(worker_a, situation="很长" * 6000))
    assert r.status_code == 422 and "situation" in r.get_json()["error"]["details"]["fields"]
    limit = app.config["MAX_CONTENT_LENGTH"]
    r = worker_a.post(entry_url("visit_log"), data=b"x" * (limit + 1),
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "request_too_large"
    r = worker_a.get(entry_url("visit_log", "not-an-id"))
    assert r.status_code == 404


def test_entry_photos_open_for_whoever_reads_the_entry(builtin_ledgers, worker_a, worker_b,
                                                        staff):  # fmt: skip
    from tests.server.resources.test_files import make_png, upload

    shas = [upload(worker_a, make_png(seed=s)).get_json()["sha256"] for s in (11, 12)]
    r = worker_a.post(entry_url("visit_log"), json=visit(worker_a, photos=shas))
    assert r.status_code == 201, r.get_json()
    entry = r.get_json()
    # The office reviewing the ledger sees the photos; another grid's worker does not.
    assert all(staff.get(f"/api/v1/files/{s}").status_code == 200 for s in shas)
    assert worker_b.get(f"/api/v1/files/{shas[0]}").status_code == 404
    # A photo taken off the entry is no longer readable through it.
    r = worker_a.patch(entry_url("visit_log", entry["id"]), json={"data": {"photos": shas[1:]}},
                       headers={"If-Match": str(entry["version"])})  # fmt: skip
    assert r.status_code == 200, r.get_json()
    assert staff.get(f"/api/v1/files/{shas[0]}").status_code == 404
    assert staff.get(f"/api/v1/files/{shas[1]}").status_code == 200
    assert staff.delete(entry_url("visit_log", entry["id"])).status_code == 204
    assert staff.get(f"/api/v1/files/{shas[1]}").status_code == 404
    # The uploader keeps access to what they uploaded.
    assert worker_a.get(f"/api/v1/files/{shas[0]}").status_code == 200

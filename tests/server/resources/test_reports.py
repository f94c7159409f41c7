"""The closed loop through the API: every role, every transition, and every refusal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from ledger.reports.workflow import ACTIONS, STATES
from tests.plugins.reports import URL, near, photo

ROLES = ("worker", "staff", "dispatcher", "huanwei", "admin")


def test_full_loop_from_report_to_evaluation(loop):
    report = loop.report()
    rid = report["id"]
    assert report["state"] == "reported"
    assert report["category"] == "event.city.garbage"
    assert report["category_path"] == "市容环境/暴露垃圾"
    assert report["source"] == "field" and report["area"] == "G1"
    assert report["suggested_department"] == "huanwei"
    assert report["due_at"] is not None and report["overdue"] is False
    assert report["actions"] == []  # the reporter waits for the dispatcher

    got = loop.dispatcher.get(f"{URL}/{rid}").get_json()
    assert got["state"] == "reported" and got["category"] == "event.city.garbage"
    assert set(got["actions"]) == {"accept", "reject", "mark_duplicate"}

    loop.step(loop.dispatcher, rid, "accept", comment="属实，立案")
    r = loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    assert r["department"] == "huanwei" and r["department_name"] == "环卫"
    assert r["dispatched_at"] is not None

    # Only now does the department see it, with start as its next step.
    seen = loop.huanwei.get(f"{URL}/{rid}").get_json()
    assert seen["actions"] == ["start"]
    loop.step(loop.huanwei, rid, "start")
    fixed = photo(loop.huanwei)
    r = loop.step(loop.huanwei, rid, "resolve", comment="已清运", photos=[fixed])
    assert r["state"] == "resolved" and r["resolved_at"] is not None

    checked = photo(loop.worker)
    loop.step(loop.worker, rid, "verify", photos=[checked], comment="现场已干净")
    r = loop.step(loop.dispatcher, rid, "close")
    assert r["state"] == "closed" and r["closed_at"] is not None and r["due_at"] is None
    assert r["overdue"] is False and r["late"] is False
    r = loop.step(loop.worker, rid, "evaluate", satisfied=True)
    assert r["satisfied"] is True and r["state"] == "closed" and r["actions"] == []

    timeline = loop.dispatcher.get(f"{URL}/{rid}/timeline").get_json()["items"]
    steps = ["report", "accept", "dispatch", "start", "resolve", "verify", "close", "evaluate"]
    assert [e["action"] for e in timeline] == steps
    assert [e["to_state"] for e in timeline] == [
        "reported", "accepted", "dispatched", "in_progress", "resolved", "verified", "closed",
        "closed"]  # fmt: skip
    roles = [e["actor"]["role"] for e in timeline]
    assert roles == ["grid_worker", "dispatcher", "dispatcher", "department_staff",
                     "department_staff", "grid_worker", "dispatcher", "grid_worker"]  # fmt: skip
    assert timeline[1]["comment"] == "属实，立案"
    assert timeline[2]["department"] == "huanwei"
    assert timeline[4]["photos"] == [fixed] and timeline[5]["photos"] == [checked]
    assert timeline[7]["data"] == {"satisfied": True}
    assert all(e["at"] for e in timeline)

    # The department's photo is readable by the grid worker who checks on site.
    assert loop.worker.get(f"/api/v1/files/{fixed}").status_code == 200


def _expected(action: str, state: str, role: str) -> int | None:
    """The status a refused call gets, or None when the workflow allows it."""
    role_name = {"worker": "grid_worker", "staff": "community_staff", "huanwei": "department_staff"}
    a = ACTIONS[action]
    if role == "huanwei" and state in ("reported", "accepted", "rejected", "duplicate"):
        return 404  # not dispatched to the department: it does not see the case at all
    if role_name.get(role, role) not in a.roles:
        return 403
    if state not in a.sources:
        return 409
    return None


@pytest.mark.parametrize("state", STATES)
def test_every_illegal_transition_is_refused_and_changes_nothing(loop, state):
    report = loop.in_state(state)
    rid, version = report["id"], report["version"]
    tried = 0
    for role in ROLES:
        user = getattr(loop, role)
        for action in ACTIONS:
            expected = _expected(action, state, role)
            if expected is None:
                continue
            r = loop.act(user, rid, action, comment="x", department="huanwei",
                         duplicate_of=rid, photos=[], satisfied=True)  # fmt: skip
            tried += 1
            assert r.status_code == expected, (state, role, action, r.get_json())
            code = r.get_json()["error"]["code"]
            assert code == {403: "reports.role_not_allowed", 409: "reports.transition_not_allowed",
                            404: "reports.not_found"}[expected]  # fmt: skip
            assert r.get_json()["error"]["message"]
    assert tried >= 20
    after = loop.admin.get(f"{URL}/{rid}").get_json()
    assert after["state"] == state and after["version"] == version


def test_actions_needing_a_reason_photos_or_department_say_so(loop):
    rid = loop.report()["id"]
    r = loop.act(loop.dispatcher, rid, "reject")
    assert r.status_code == 422 and "comment" in r.get_json()["error"]["details"]["fields"]
    loop.step(loop.dispatcher, rid, "accept")
    r = loop.act(loop.dispatcher, rid, "dispatch")
    assert r.status_code == 422 and "department" in r.get_json()["error"]["details"]["fields"]
    r = loop.act(loop.dispatcher, rid, "dispatch", department="nope")
    assert r.status_code == 422
    loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    loop.step(loop.huanwei, rid, "start")
    r = loop.act(loop.huanwei, rid, "resolve")
    assert r.status_code == 422 and "photos" in r.get_json()["error"]["details"]["fields"]
    # A photo someone else uploaded and nobody linked is not theirs to attach.
    r = loop.act(loop.huanwei, rid, "resolve", photos=[photo(loop.other_worker)])
    assert r.status_code == 422
    r = loop.act(loop.huanwei, rid, "resolve", photos=["f" * 64])
    assert r.status_code == 422
    assert loop.admin.get(f"{URL}/{rid}").get_json()["state"] == "in_progress"


def test_failed_check_reopens_to_the_department_with_a_fresh_deadline(loop):
    report = loop.in_state("resolved")
    rid = report["id"]
    r = loop.act(loop.worker, rid, "reopen")
    assert r.status_code == 422
    r = loop.step(loop.worker, rid, "reopen", comment="垃圾还在")
    assert r["state"] == "reopened" and r["department"] == "huanwei"
    assert r["due_at"] > report["due_at"]
    assert loop.huanwei.get(f"{URL}/{rid}").get_json()["actions"] == ["start"]
    loop.step(loop.huanwei, rid, "start")
    loop.step(loop.huanwei, rid, "resolve", photos=[photo(loop.huanwei)])
    r = loop.step(loop.worker, rid, "verify", photos=[photo(loop.worker)])
    assert r["state"] == "verified"
    actions = [e["action"] for e in loop.worker.get(f"{URL}/{rid}/timeline").get_json()["items"]]
    assert actions.count("resolve") == 2 and "reopen" in actions


def test_department_staff_see_only_cases_dispatched_to_them(loop):
    mine = loop.in_state("dispatched")
    waiting = loop.report(location=near(300, 0))
    r = loop.huanwei.get(URL).get_json()
    assert [i["id"] for i in r["items"]] == [mine["id"]]
    assert loop.chengguan.get(URL).get_json()["items"] == []
    assert loop.chengguan.get(f"{URL}/{mine['id']}").status_code == 404
    assert loop.huanwei.get(f"{URL}/{waiting['id']}").status_code == 404
    # Re-dispatch moves the case (and its visibility) to the other department.
    r = loop.step(loop.dispatcher, mine["id"], "dispatch", department="chengguan")
    assert r["department"] == "chengguan"
    assert loop.huanwei.get(f"{URL}/{mine['id']}").status_code == 404
    assert loop.chengguan.get(f"{URL}/{mine['id']}").get_json()["actions"] == ["start"]
    timeline = loop.admin.get(f"{URL}/{mine['id']}/timeline").get_json()["items"]
    assert timeline[-1]["data"] == {"previous_department": "huanwei"}
    # Registers are not theirs to read.
    assert loop.huanwei.get("/api/v1/people").status_code == 403
    # Same department again is a mistake, not a re-dispatch.
    r = loop.act(loop.dispatcher, mine["id"], "dispatch", department="chengguan")
    assert r.status_code == 422


def test_grid_workers_see_their_grid_only(loop):
    report = loop.report()
    assert loop.other_worker.get(f"{URL}/{report['id']}").status_code == 404
    assert loop.other_worker.get(URL).get_json()["items"] == []
    r = loop.act(loop.other_worker, report["id"], "verify", photos=[])
    assert r.status_code == 404
    assert [i["id"] for i in loop.staff.get(URL).get_json()["items"]] == [report["id"]]


def test_only_the_reporter_evaluates_and_only_once(loop):
    report = loop.in_state("closed")
    rid = report["id"]
    r = loop.act(loop.staff, rid, "evaluate", satisfied=False)
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "reports.not_reporter"
    assert "evaluate" not in loop.staff.get(f"{URL}/{rid}").get_json()["actions"]
    r = loop.act(loop.worker, rid, "evaluate")
    assert r.status_code == 422
    loop.step(loop.worker, rid, "evaluate", satisfied=False, comment="处理太慢")
    r = loop.act(loop.worker, rid, "evaluate", satisfied=True)
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "reports.already_evaluated"


def test_a_dispatcher_records_a_hotline_callers_evaluation(loop):
    body = {"category": "event.city.garbage", "title": "热线反映垃圾", "source": "hotline_12345",
            "area": "G1", "external_id": "12345-20261124-0001",
            "contact": {"name": "王女士", "phone": "139 0000 1234"}}  # fmt: skip
    r = loop.dispatcher.post(URL, json=body)
    assert r.status_code == 201, r.get_json()
    report = r.get_json()
    assert report["source"] == "hotline_12345" and report["reporter"]["id"] == loop.dispatcher.id
    assert report["contact"] == {"name": "王女士", "phone": "139****1234"}
    rid = report["id"]
    for who, action, fields in [
        ("dispatcher", "accept", {}), ("dispatcher", "dispatch", {"department": "huanwei"}),
        ("huanwei", "start", {}), ("huanwei", "resolve", {"photos": [photo(loop.huanwei)]}),
        ("worker", "verify", {"photos": [photo(loop.worker)]}), ("dispatcher", "close", {}),
    ]:  # fmt: skip
        loop.step(getattr(loop, who), rid, action, **fields)
    r = loop.step(loop.dispatcher, rid, "evaluate", satisfied=True, comment="来电回访：满意")
    assert r["satisfied"] is True


def test_callers_phone_is_masked_and_every_reveal_audited(loop, db_session):
    from ledger.audit.models import AuditEntry
    from ledger.reports.models import Report

    body = {"category": "event.city.garbage", "title": "热线", "source": "hotline_12345",
            "area": "G1", "contact": {"name": "李先生", "phone": "13900001234"}}  # fmt: skip
    rid = loop.dispatcher.post(URL, json=body).get_json()["id"]
    stored = db_session.scalar(select(Report.contact_enc).where(Report.id == rid))
    assert b"13900001234" not in stored
    db_session.rollback()  # the test's own session must not hold SQLite's write lock
    assert loop.worker.get(f"{URL}/{rid}").get_json()["contact"]["phone"] == "139****1234"
    r = loop.worker.get(f"{URL}/{rid}?reveal=1")
    assert r.status_code == 403
    r = loop.dispatcher.get(f"{URL}/{rid}?reveal=1")
    assert r.get_json()["contact"]["phone"] == "13900001234"
    audits = db_session.scalars(
        select(AuditEntry).where(AuditEntry.action == "report.reveal_contact")
    ).all()
    assert [a.object_id for a in audits] == [rid]
    listed = loop.dispatcher.get(URL).get_json()["items"][0]
    assert listed["contact"]["phone"] == "139****1234"


def test_possible_duplicates_and_merging(loop):
    first = loop.report(location=near())
    second = loop.report(location=near(30, 10), title="又是那堆垃圾")
    assert [d["id"] for d in second["possible_duplicates"]] == [first["id"]]
    assert 25 < second["possible_duplicates"][0]["distance_m"] < 40
    # Another category, or 80 m away, is not the same problem.
    other = loop.report(location=near(5, 0), category="part.public.lamp", title="路灯不亮")
    far = loop.report(location=near(80, 0))
    assert other["possible_duplicates"] == []
    assert first["id"] not in [d["id"] for d in far["possible_duplicates"]]

    r = loop.act(loop.dispatcher, second["id"], "mark_duplicate")
    assert r.status_code == 422
    r = loop.act(loop.dispatcher, second["id"], "mark_duplicate", duplicate_of=second["id"])
    assert r.status_code == 422
    r = loop.step(loop.dispatcher, second["id"], "mark_duplicate", duplicate_of=first["id"])
    assert r["state"] == "duplicate" and r["duplicate_of"] == first["id"]
    merged = loop.admin.get(f"{URL}/{first['id']}/timeline").get_json()["items"][-1]
    assert merged["action"] == "duplicate_merged"
    assert merged["data"] == {"report_id": second["id"]}
    assert merged["photos"] == second["photos"]
    # A third report is offered the original, not the merged duplicate.
    third = loop.report(location=near(10, 10))
    ids = [d["id"] for d in third["possible_duplicates"]]
    assert first["id"] in ids and second["id"] not in ids
    # Marking against a duplicate follows it to the original.
    r = loop.step(loop.dispatcher, third["id"], "mark_duplicate", duplicate_of=second["id"])
    assert r["duplicate_of"] == first["id"]


def test_reports_older_than_72_hours_are_not_duplicates(loop, db_session):
    from ledger.reports.models import Report

    old = loop.report()
    db_session.execute(update(Report).where(Report.id == old["id"]).values(
        created_at=datetime.now(UTC) - timedelta(hours=73)))  # fmt: skip
    db_session.commit()
    assert loop.report(location=near(5, 5))["possible_duplicates"] == []


def test_overdue_is_flagged_listed_and_makes_the_case_late(loop, db_session):
    from ledger.reports.models import Report

    late = loop.report()
    on_time = loop.report(location=near(200, 0))
    db_session.execute(update(Report).where(Report.id == late["id"]).values(
        due_at=datetime.now(UTC) - timedelta(minutes=5)))  # fmt: skip
    db_session.commit()
    listed = loop.dispatcher.get(f"{URL}?overdue=true").get_json()["items"]
    assert [i["id"] for i in listed] == [late["id"]] and listed[0]["overdue"] is True
    not_late = loop.dispatcher.get(f"{URL}?overdue=false").get_json()["items"]
    assert [i["id"] for i in not_late] == [on_time["id"]]
    r = loop.step(loop.dispatcher, late["id"], "accept")
    assert r["late"] is True and r["overdue"] is False
    # The next stage has its own deadline, from the category (2 hours to dispatch).
    due = datetime.fromisoformat(r["due_at"])
    assert timedelta(hours=1.9) < due - datetime.now(UTC) < timedelta(hours=2.1)


def test_list_filters_and_pages(loop):
    garbage = [loop.report(location=near(i * 100, 0)) for i in range(3)]
    lamp = loop.report(category="part.public.lamp", title="路灯不亮", location=near(0, 400))
    c_report = loop.report(user=loop.other_worker, area="G3", location=near(900, 900))
    loop.step(loop.dispatcher, garbage[0]["id"], "accept")

    def ids(query):
        r = loop.dispatcher.get(f"{URL}?{query}")
        assert r.status_code == 200, r.get_json()
        return {i["id"] for i in r.get_json()["items"]}

    assert ids("state=accepted") == {garbage[0]["id"]}
    assert ids("state=reported,accepted") == {r["id"] for r in (*garbage, lamp, c_report)}
    assert ids("category=event.city") == {r["id"] for r in (*garbage, c_report)}
    assert ids("category=part.public.lamp") == {lamp["id"]}
    assert ids("area=C2") == {c_report["id"]}
    assert ids("area=G1&category=event.city") == {r["id"] for r in garbage}
    assert ids("mine=true&area=G1&state=reported") == set()
    r = loop.dispatcher.get(f"{URL}?state=bogus")
    assert r.status_code == 422
    assert loop.worker.get(f"{URL}?area=C2").status_code == 422

    seen, cursor = [], None
    while True:
        page = loop.dispatcher.get(f"{URL}?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        body = page.get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 5 == len(set(seen))


def test_offline_reports_keep_their_id_and_time(loop):
    rid = str(uuid.uuid4())
    made = (datetime.now(UTC) - timedelta(hours=3)).isoformat()
    r = loop.report(id=rid, reported_at=made)
    assert r["id"] == rid and datetime.fromisoformat(r["reported_at"]) == datetime.fromisoformat(
        made
    )
    again = loop.worker.post(URL, json={"id": rid, "category": "event.city.garbage", "title": "x"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "reports.duplicate_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "event.city"}, "category"),
        ({"category": "no.such"}, "category"),
        ({"photos": ["0" * 64]}, "photos"),
        ({"photos": ["not-a-hash"]}, "photos"),
        ({"area": "G3"}, "area"),
        ({"title": "", "description": ""}, "title"),
        ({"reported_at": "2099-01-01T00:00:00+08:00"}, "reported_at"),
        ({"location": {"lat": 0, "lon": 0}}, "location"),
        ({"location": {"lat": 95, "lon": 0}}, "location"),
    ],
)
def test_bad_reports_are_refused_with_the_field_named(loop, change, field):
    body = {"category": "event.city.garbage", "title": "垃圾", **change}
    r = loop.worker.post(URL, json=body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["details"]["fields"]
    assert loop.admin.get(URL).get_json()["items"] == []


def test_a_title_is_made_from_the_description_when_missing(loop):
    text = "你好，幸福小区3号楼门口垃圾堆了好几天没人清运"
    r = loop.worker.post(URL, json={"category": "event.city.garbage", "description": text})
    assert r.status_code == 201
    title = r.get_json()["title"]
    assert title and "垃圾" in title and "你好" not in title


def test_stale_version_is_refused(loop):
    report = loop.report()
    r = loop.dispatcher.post(f"{URL}/{report['id']}/transitions", json={"action": "accept"},
                             headers={"If-Match": str(report["version"] + 5)})  # fmt: skip
    assert r.status_code == 412


def test_routing_rules_auto_dispatch_and_pick_the_most_specific(loop):
    # Vending in this street goes straight to 城管 (the 20-minute loop of the seeds).
    r = loop.admin.post("/api/v1/routing-rules", json={
        "category": "event.street.vending", "area": "S1", "department": "chengguan",
        "auto_dispatch": True})  # fmt: skip
    assert r.status_code == 201, r.get_json()
    # A class-wide rule for the community is less specific than the leaf rule above.
    loop.admin.post("/api/v1/routing-rules", json={
        "category": "event.street", "area": "C1", "department": "shequ"})  # fmt: skip
    assert loop.dispatcher.post("/api/v1/routing-rules", json={
        "department": "shequ"}).status_code == 403  # fmt: skip
    report = loop.report(category="event.street.vending", title="门口有流动摊贩")
    assert report["state"] == "dispatched" and report["department"] == "chengguan"
    timeline = loop.chengguan.get(f"{URL}/{report['id']}/timeline").get_json()["items"]
    assert [e["action"] for e in timeline] == ["report", "accept", "dispatch"]
    assert timeline[1]["actor"]["name"] == "系统" and timeline[2]["data"]["auto"] is True
    parking = loop.report(category="event.street.parking", title="乱停车", location=near(0, 300))
    assert parking["state"] == "reported" and parking["suggested_department"] == "shequ"
    rules = loop.dispatcher.get("/api/v1/routing-rules").get_json()["items"]
    assert len(rules) == 2
    assert loop.admin.delete(f"/api/v1/routing-rules/{rules[1]['id']}").status_code == 204
    lamp = loop.report(category="event.street.parking", title="乱停车", location=near(0, 900))
    assert lamp["suggested_department"] == "jiaotong"


def test_a_dispatcher_corrects_the_category_when_accepting(loop):
    report = loop.report(category="event.city.garbage", title="路灯坏了")
    r = loop.act(loop.worker, report["id"], "accept", category="part.public.lamp")
    assert r.status_code == 403
    r = loop.act(loop.dispatcher, report["id"], "accept", category="part.public")
    assert r.status_code == 422
    r = loop.step(loop.dispatcher, report["id"], "accept", category="part.public.lamp")
    assert r["category"] == "part.public.lamp" and r["suggested_department"] == "shizheng"
    timeline = loop.dispatcher.get(f"{URL}/{report['id']}/timeline").get_json()["items"]
    assert timeline[-1]["data"]["category"] == {"from": "event.city.garbage",
                                                "to": "part.public.lamp"}  # fmt: skip
    fresh = loop.report(location=near(400, 0))
    r = loop.act(loop.dispatcher, fresh["id"], "reject", comment="x", category="part.public.lamp")
    assert r.status_code == 422


def test_department_staff_read_the_files_of_their_cases_only(loop):
    sha = photo(loop.worker)
    report = loop.report(photos=[sha])
    assert loop.staff.get(f"/api/v1/files/{sha}").status_code == 200
    assert loop.huanwei.get(f"/api/v1/files/{sha}").status_code == 404
    loop.step(loop.dispatcher, report["id"], "accept")
    loop.step(loop.dispatcher, report["id"], "dispatch", department="huanwei")
    assert loop.huanwei.get(f"/api/v1/files/{sha}").status_code == 200
    assert loop.chengguan.get(f"/api/v1/files/{sha}").status_code == 404

"""Reports through offline sync: made without signal, photos uploaded later, corrected by the
reporter until taken up, and every step of the case pulled back to the phone."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from tests.plugins.reports import URL, near, photo
from tests.server.resources.test_files import make_png, upload
from tests.server.resources.test_sync import mutation, pull_all, push


def reports_in(changes):
    return {c["id"]: c for c in changes if c["entity"] == "report"}


def offline_report(**fields):
    body = {"category": "event.city.garbage", "title": "地下车库垃圾堆积",
            "description": "B2 车库入口垃圾堆了一周", "area": "G1", "urgency": "normal",
            "reported_at": "2026-11-24T08:30:00+08:00", **near(), **fields}  # fmt: skip
    return mutation("report", **body)


def test_an_offline_report_syncs_and_its_case_comes_back(loop):
    png = make_png(seed=77)
    sha = hashlib.sha256(png).hexdigest()
    created = offline_report(photos=[sha.upper()])
    (result,) = push(loop.worker, created)
    assert result["status"] == "applied", result
    assert result["missing_files"] == [sha]
    rid = created["id"]
    report = loop.dispatcher.get(f"{URL}/{rid}").get_json()
    assert report["state"] == "reported" and report["photos"] == [sha]
    assert report["reported_at"].startswith("2026-11-24T00:30:00")
    # The photo arrives later; then the dispatcher may see it.
    assert loop.dispatcher.get(f"/api/v1/files/{sha}").status_code == 404
    assert upload(loop.worker, png).status_code in (200, 201)
    assert loop.dispatcher.get(f"/api/v1/files/{sha}").status_code == 200

    # The reporter corrects it offline while nobody has taken it up.
    edit = mutation("report", record_id=rid, base=1, title="地下车库B2入口垃圾堆积",
                    transcript="地下车库 b 二入口垃圾堆积")  # fmt: skip
    (result,) = push(loop.worker, edit)
    assert result["status"] == "applied", result
    seen = loop.dispatcher.get(f"{URL}/{rid}").get_json()
    assert seen["title"] == "地下车库B2入口垃圾堆积"
    assert seen["transcript"] == "地下车库 b 二入口垃圾堆积"

    _, _, cursor = pull_all(loop.worker)
    loop.step(loop.dispatcher, rid, "accept")
    loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    changes, _, cursor = pull_all(loop.worker, cursor)
    pulled = reports_in(changes)[rid]["fields"]
    version = reports_in(changes)[rid]["version"]
    assert pulled["state"] == "dispatched" and pulled["department"] == "huanwei"
    assert pulled["due_at"] and pulled["photos"] == [sha]
    assert pulled["transcript"] == "地下车库 b 二入口垃圾堆积"

    # Now it is a case: content edits are refused, a pushed copy of the state is ignored.
    late = mutation("report", record_id=rid, base=version, description="补充")
    (result,) = push(loop.worker, late)
    assert result["status"] == "rejected", result
    assert result["errors"]["code"] == "reports.locked"
    stale = mutation("report", record_id=rid, base=version, state="closed")
    (result,) = push(loop.worker, stale)
    assert result["status"] in ("applied", "merged"), result  # nothing of it is applied
    assert loop.dispatcher.get(f"{URL}/{rid}").get_json()["state"] == "dispatched"
    (result,) = push(loop.worker, mutation("report", op="delete", record_id=rid, base=version))
    assert result["status"] == "rejected"


def test_sync_keeps_reports_in_scope_and_checks_them(loop):
    (result,) = push(loop.worker, offline_report(area="G3"))
    assert result["status"] == "rejected"
    (result,) = push(loop.worker, offline_report(category="event.city"))
    assert result["status"] == "rejected"
    created = offline_report()
    push(loop.worker, created)
    changes, _, _ = pull_all(loop.other_worker)
    assert created["id"] not in reports_in(changes)
    changes, _, _ = pull_all(loop.staff)
    assert created["id"] in reports_in(changes)
    # Replaying the same push changes nothing.
    (again,) = push(loop.worker, created)
    assert again["status"] in ("applied", "duplicate"), again
    assert len(loop.admin.get(URL).get_json()["items"]) == 1


def test_a_check_on_site_taken_offline_applies_when_the_phone_syncs(loop):
    report = loop.in_state("resolved")
    rid = report["id"]
    png = make_png(seed=91)
    sha = hashlib.sha256(png).hexdigest()
    # In the basement at 10:00; back in signal later. The photo has not been uploaded yet.
    acted = "2026-11-24T10:00:00+08:00"
    verify = mutation("report_action", report=rid, action="verify", photos=[sha],
                      comment="现场已清理干净", acted_at=acted)  # fmt: skip
    (result,) = push(loop.worker, verify)
    assert result["status"] == "applied", result
    assert result["missing_files"] == [sha]
    after = loop.dispatcher.get(f"{URL}/{rid}").get_json()
    assert after["state"] == "verified"
    step = loop.dispatcher.get(f"{URL}/{rid}/timeline").get_json()["items"][-1]
    assert step["action"] == "verify" and step["data"] == {"offline": True}
    assert step["photos"] == [sha] and step["actor"]["role"] == "grid_worker"
    assert upload(loop.worker, png).status_code in (200, 201)
    assert loop.dispatcher.get(f"/api/v1/files/{sha}").status_code == 200
    # The same push again (a retry after a lost answer) takes nothing twice.
    (again,) = push(loop.worker, verify)
    assert again["status"] in ("applied", "duplicate"), again
    steps = loop.dispatcher.get(f"{URL}/{rid}/timeline").get_json()["items"]
    assert [s["action"] for s in steps].count("verify") == 1
    # Steps travel to other devices; they cannot be edited or withdrawn.
    changes, _, _ = pull_all(loop.staff)
    pulled = {c["id"]: c for c in changes if c["entity"] == "report_action"}[verify["id"]]
    assert pulled["fields"]["action"] == "verify" and pulled["fields"]["report"] == rid
    edit = mutation("report_action", record_id=verify["id"], base=1, comment="改")
    (result,) = push(loop.worker, edit)
    assert result["status"] == "rejected" and result["errors"]["code"] == "reports.action_final"


def test_an_offline_step_the_case_has_moved_past_is_refused_with_the_reason(loop):
    report = loop.in_state("resolved")
    rid = report["id"]
    loop.step(loop.staff, rid, "reopen", comment="仍有垃圾")  # someone else, online, first
    late = mutation("report_action", report=rid, action="verify", photos=[photo(loop.worker)],
                    acted_at="2026-11-24T10:00:00+08:00")  # fmt: skip
    (result,) = push(loop.worker, late)
    assert result["status"] == "rejected"
    assert result["errors"]["code"] == "reports.transition_not_allowed"
    assert loop.dispatcher.get(f"{URL}/{rid}").get_json()["state"] == "reopened"
    # Steps for cases outside the device's grids, or without a time, are refused too.
    other = loop.report(user=loop.other_worker, area="G3", location=near(900, 0))
    stray = mutation("report_action", report=other["id"], action="verify",
                     acted_at=late["fields"]["acted_at"])  # fmt: skip
    (result,) = push(loop.worker, stray)
    assert result["status"] == "rejected" and "report" in str(result["errors"])
    (result,) = push(loop.worker, mutation("report_action", report=rid, action="verify"))
    assert result["status"] == "rejected" and "acted_at" in str(result["errors"])


def test_reports_and_offline_steps_over_the_watermelondb_protocol(loop):
    from tests.server.resources import test_sync_watermelon as wm

    stamp = wm.pull(loop.worker)["timestamp"]
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    made_ms = int(made.timestamp() * 1000)  # WatermelonDB keeps times as milliseconds
    raw = {"id": wm.wm_id(), "category": "part.public.manhole", "title": "井盖缺失",
           "description": "幸福路12号门口井盖没了", "area": "G1", "urgency": "high",
           "photos": "[]", "lat": near()["lat"], "lon": near()["lon"],
           "reported_at": made_ms, "state": "reported", "_status": "created",
           "_changed": ""}  # fmt: skip
    body = wm.push(loop.worker, {"reports": wm.table([raw])}, stamp)
    assert body["experimentalRejectedIds"] == {}, body
    report = loop.dispatcher.get(f"{URL}/{raw['id']}").get_json()
    assert report["urgency"] == "high"
    assert datetime.fromisoformat(report["reported_at"]) == made
    loop.step(loop.dispatcher, raw["id"], "accept")
    pulled = wm.pull(loop.worker, stamp)["changes"]
    (row,) = [r for r in pulled["reports"]["updated"] if r["id"] == raw["id"]]
    assert row["state"] == "accepted" and json.loads(row["photos"]) == []
    assert pulled["report_actions"]["updated"] == []
    # An evaluation the app queued offline, as a WatermelonDB row.
    rid = loop.in_state("closed")["id"]
    step = {"id": wm.wm_id(), "report": rid, "action": "evaluate", "satisfied": True,
            "photos": "[]", "acted_at": "2026-11-24T10:00:00+08:00", "_status": "created",
            "_changed": ""}  # fmt: skip
    stamp = wm.pull(loop.worker)["timestamp"]
    body = wm.push(loop.worker, {"report_actions": wm.table([step])}, stamp)
    assert body["experimentalRejectedIds"] == {}, body
    assert loop.dispatcher.get(f"{URL}/{rid}").get_json()["satisfied"] is True

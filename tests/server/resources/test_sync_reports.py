"""Reports through offline sync: made without signal, photos uploaded later, corrected by the
reporter until taken up, and every step of the case pulled back to the phone."""

from __future__ import annotations

import hashlib

from tests.plugins.reports import URL, near
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
    edit = mutation("report", record_id=rid, base=1, title="地下车库B2入口垃圾堆积")
    (result,) = push(loop.worker, edit)
    assert result["status"] == "applied", result
    assert loop.dispatcher.get(f"{URL}/{rid}").get_json()["title"] == "地下车库B2入口垃圾堆积"

    _, _, cursor = pull_all(loop.worker)
    loop.step(loop.dispatcher, rid, "accept")
    loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    changes, _, cursor = pull_all(loop.worker, cursor)
    pulled = reports_in(changes)[rid]["fields"]
    version = reports_in(changes)[rid]["version"]
    assert pulled["state"] == "dispatched" and pulled["department"] == "huanwei"
    assert pulled["due_at"] and pulled["photos"] == [sha]

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

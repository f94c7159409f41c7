"""Dashboard statistics over real reports: counts, overdue, medians, on-time rate, hotspots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from tests.plugins.reports import URL, near, photo

STATS = f"{URL}/stats"


def _close(loop, rid: str, *, late: bool = False, db_session=None) -> None:
    from ledger.reports.models import Report

    loop.step(loop.dispatcher, rid, "accept")
    loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    loop.step(loop.huanwei, rid, "start")
    if late:
        db_session.execute(update(Report).where(Report.id == rid).values(
            due_at=datetime.now(UTC) - timedelta(minutes=1)))  # fmt: skip
        db_session.commit()
    loop.step(loop.huanwei, rid, "resolve", photos=[photo(loop.huanwei)])
    loop.step(loop.worker, rid, "verify", photos=[photo(loop.worker)])
    loop.step(loop.dispatcher, rid, "close")


def _ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


def test_dashboard_figures(loop, db_session):
    from ledger.reports.models import Report

    a = loop.report(reported_at=_ago(5), location=near(0, 0))
    b = loop.report(reported_at=_ago(3), location=near(5, 5))
    lamp = loop.report(category="part.public.lamp", title="路灯不亮", reported_at=_ago(1),
                       location=near(2000, 0))  # fmt: skip
    waiting = loop.report(location=near(10, 0))
    other = loop.report(user=loop.other_worker, area="G3", location=near(5000, 0))
    _close(loop, a["id"], late=True, db_session=db_session)
    _close(loop, b["id"])
    _close(loop, lamp["id"])
    db_session.execute(update(Report).where(Report.id == waiting["id"]).values(
        due_at=datetime.now(UTC) - timedelta(hours=1)))  # fmt: skip
    db_session.commit()

    r = loop.dispatcher.get(STATS)
    assert r.status_code == 200, r.get_json()
    s = r.get_json()
    assert s["total"] == 5
    assert {x["state"]: x["count"] for x in s["by_state"]} == {"reported": 2, "closed": 3}
    assert s["by_category"][0] == {"code": "event.city.garbage", "name": "暴露垃圾",
                                   "path": "市容环境/暴露垃圾", "count": 4}  # fmt: skip
    assert {x["code"]: x["count"] for x in s["by_class"]} == {"event.city": 4, "part.public": 1}
    assert {x["code"]: x["count"] for x in s["by_area"]} == {"G1": 4, "G3": 1}
    assert s["overdue"]["total"] == 1
    assert s["overdue"]["by_category"][0]["code"] == "event.city.garbage"
    assert s["overdue"]["by_department"] == [{"code": None, "name": "未派遣", "count": 1}]
    assert s["closed"] == 3 and s["on_time_rate"] == round(2 / 3, 4)
    medians = s["median_close_hours"]
    assert abs(medians["overall"] - 3) < 0.05
    garbage = next(x for x in medians["by_category"] if x["code"] == "event.city.garbage")
    assert garbage["count"] == 2 and abs(garbage["median_hours"] - 4) < 0.05
    assert medians["by_department"][0]["code"] == "huanwei"
    assert medians["by_department"][0]["count"] == 3
    top = s["hotspots"][0]
    assert top["count"] == 3 and len(top["cell"]) == 7
    assert abs(top["lat"] - near()["lat"]) < 0.002 and abs(top["lon"] - near()["lon"]) < 0.002

    only_c2 = loop.dispatcher.get(f"{STATS}?area=C2").get_json()
    assert only_c2["total"] == 1 and only_c2["by_area"][0]["code"] == "G3"
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    assert loop.dispatcher.get(f"{STATS}?from={tomorrow}").get_json()["total"] == 0
    today = datetime.now(UTC).date().isoformat()
    assert loop.dispatcher.get(f"{STATS}?from=2020-01-01&to={tomorrow}").get_json()["total"] == 5
    r = loop.dispatcher.get(f"{STATS}?from={tomorrow}&to={today}")
    assert r.status_code == 422
    # Community staff count their own community; grid workers have no dashboard.
    assert loop.staff.get(STATS).get_json()["total"] == 4
    assert loop.staff.get(f"{STATS}?area=C2").status_code == 422
    assert loop.worker.get(STATS).status_code == 403
    assert other["id"]


def test_empty_dashboard(loop):
    s = loop.admin.get(STATS).get_json()
    assert s["total"] == 0 and s["on_time_rate"] is None
    assert s["median_close_hours"]["overall"] is None and s["hotspots"] == []

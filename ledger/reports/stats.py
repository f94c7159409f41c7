"""Dashboard statistics (一张图): counts by category, state and area, overdue cases, time to
close, the on-time rate and hotspots, over the reports a caller may see."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select

from ledger.areas.models import Area
from ledger.areas.operations import get_area_by_code
from ledger.context import Ctx
from ledger.db import utcnow
from ledger.errors import NotFound
from ledger.ledgers.entries import CHINA
from ledger.reports import geo
from ledger.reports.categories import all_categories
from ledger.reports.errors import field_error
from ledger.reports.models import Department, Report
from ledger.reports.reports import visible
from ledger.reports.workflow import FINAL, STATE_NAMES

HOTSPOTS = 10


def _bounds(day_from: date | None, day_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days to a UTC half-open range [from 00:00, the day after to)."""
    if day_from and day_to and day_from > day_to:
        raise field_error("from", "开始日期不能晚于结束日期")
    start = datetime.combine(day_from, time(), CHINA) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time(), CHINA) if day_to else None
    return start, end


def report_stats(ctx: Ctx, *, area: str | None = None, day_from: date | None = None,
                 day_to: date | None = None) -> dict[str, Any]:  # fmt: skip
    where = [visible(ctx)]
    if area:
        try:
            root = get_area_by_code(ctx.session, area, ctx.scope)
        except NotFound:
            raise field_error("area", "区域不存在或不在您负责的范围内") from None
        where.append(Report.area_id.in_(select(Area.id).where(Area.path.startswith(root.path))))
    start, end = _bounds(day_from, day_to)
    if start:
        where.append(Report.created_at >= start)
    if end:
        where.append(Report.created_at < end)
    now = utcnow()
    overdue = case((and_(Report.state.not_in(FINAL), Report.due_at < now), 1), else_=0)
    session = ctx.session
    # One pass groups every count the dashboard needs; the rest is summing small tuples.
    groups = session.execute(
        select(Report.category_code, Report.state, Report.area_id, Report.department_id,
               overdue, Report.late, func.count())
        .where(*where)
        .group_by(Report.category_code, Report.state, Report.area_id, Report.department_id,
                  overdue, Report.late)
    ).all()  # fmt: skip
    by_category, by_state, by_area = Counter(), Counter(), Counter()
    overdue_category, overdue_department, overdue_area = Counter(), Counter(), Counter()
    closed = closed_on_time = 0
    for category, state, area_id, department_id, is_overdue, late, n in groups:
        by_category[category] += n
        by_state[state] += n
        by_area[area_id] += n
        if is_overdue:
            overdue_category[category] += n
            overdue_department[department_id] += n
            overdue_area[area_id] += n
        if state == "closed":
            closed += n
            closed_on_time += 0 if late else n
    # Medians need the values themselves: only closed cases, three narrow columns.
    durations: dict[str, list[int]] = defaultdict(list)
    department_durations: dict[int | None, list[int]] = defaultdict(list)
    every: list[int] = []
    for category, department_id, seconds in session.execute(
        select(Report.category_code, Report.department_id, Report.close_seconds).where(
            *where, Report.state == "closed", Report.close_seconds.is_not(None)
        )
    ):
        durations[category].append(seconds)
        department_durations[department_id].append(seconds)
        every.append(seconds)
    hot = session.execute(
        select(Report.cell, func.count().label("n"))
        .where(*where, Report.cell.is_not(None))
        .group_by(Report.cell)
        .order_by(func.count().desc(), Report.cell)
        .limit(HOTSPOTS)
    ).all()
    names = _names(ctx, by_area.keys() | overdue_area.keys(),
                   department_durations.keys() | overdue_department.keys())  # fmt: skip
    categories = {c.code: c for c in all_categories(session)}

    def category_row(code: str, count: int) -> dict[str, Any]:
        c = categories.get(code)
        parent = categories.get(c.parent_code) if c and c.parent_code else None
        path = f"{parent.name}/{c.name}" if parent else (c.name if c else code)
        return {"code": code, "name": c.name if c else code, "path": path, "count": count}

    def median_hours(values: list[int]) -> float | None:
        return round(statistics.median(values) / 3600, 2) if values else None

    total = sum(by_category.values())
    return {
        "total": total,
        "by_category": [category_row(k, v) for k, v in by_category.most_common()],
        "by_class": _by_class(by_category, categories),
        "by_state": [{"state": s, "name": STATE_NAMES[s], "count": by_state[s]}
                     for s in STATE_NAMES if by_state[s]],
        "by_area": [{**names["areas"].get(k, {"code": None, "name": None}), "count": v}
                    for k, v in by_area.most_common()],
        "overdue": {
            "total": sum(overdue_category.values()),
            "by_category": [category_row(k, v) for k, v in overdue_category.most_common()],
            "by_department": [{**names["departments"].get(k, _NONE), "count": v}
                              for k, v in overdue_department.most_common()],
            "by_area": [{**names["areas"].get(k, {"code": None, "name": None}), "count": v}
                        for k, v in overdue_area.most_common()],
        },
        "closed": closed,
        "on_time_rate": round(closed_on_time / closed, 4) if closed else None,
        "median_close_hours": {
            "overall": median_hours(every),
            "by_category": [{**category_row(k, len(v)), "median_hours": median_hours(v)}
                            for k, v in sorted(durations.items(), key=lambda kv: -len(kv[1]))],
            "by_department": [{**names["departments"].get(k, _NONE), "count": len(v),
                               "median_hours": median_hours(v)}
                              for k, v in sorted(department_durations.items(),
                                                 key=lambda kv: -len(kv[1]))],
        },
        "hotspots": [{"cell": cell, "count": n, **dict(zip(("lat", "lon"), geo.cell_center(cell),
                                                           strict=True))}
                     for cell, n in hot],
        "day_from": day_from,
        "day_to": day_to,
        "area": area,
        "generated_at": now,
    }  # fmt: skip


_NONE = {"code": None, "name": "未派遣"}


def _names(ctx: Ctx, area_ids, department_ids) -> dict[str, dict]:
    areas = {}
    ids = [i for i in area_ids if i is not None]
    if ids:
        for a in ctx.session.execute(select(Area.id, Area.code, Area.name).where(Area.id.in_(ids))):
            areas[a.id] = {"code": a.code, "name": a.name}
    departments = {}
    ids = [i for i in department_ids if i is not None]
    if ids:
        for d in ctx.session.execute(
            select(Department.id, Department.code, Department.name).where(Department.id.in_(ids))
        ):
            departments[d.id] = {"code": d.code, "name": d.name}
    return {"areas": areas, "departments": departments}


def _by_class(by_category: Counter, categories: dict) -> list[dict[str, Any]]:
    classes: Counter = Counter()
    for code, n in by_category.items():
        c = categories.get(code)
        classes[(c.parent_code or c.code) if c else code] += n
    return [{"code": k, "name": categories[k].name if k in categories else k, "count": v}
            for k, v in classes.most_common()]  # fmt: skip

"""Dashboard statistics (一张图): counts by category, state and area, overdue cases, time to
close, the on-time rate and hotspots, over the reports a caller may see."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, case, func, literal_column, select

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
from ledger.reports.workflow import FINAL, STATE_NAMES, STATES

OPEN = [s for s in STATES if s not in FINAL]

HOTSPOTS = 10
# Closing times are kept as round(ln(seconds) × BUCKETS_PER_E): a bucket is 3.2% wide, so
# a median read from the histogram is within 1.6% (a 30 h median: ± half an hour).
BUCKETS_PER_E = 32


def close_bucket(seconds: int) -> int:
    return round(math.log(max(seconds, 1)) * BUCKETS_PER_E)


def histogram_median(histogram: Counter) -> float | None:
    """The median closing time, in seconds, of a histogram of buckets (within 1.6%)."""
    total = histogram.total()
    if not total:
        return None
    ranks = ((total - 1) // 2, total // 2)  # 0-based ranks of the middle one or two
    values, seen = [], 0
    for bucket in sorted(histogram):
        count = histogram[bucket]
        while len(values) < 2 and seen <= ranks[len(values)] < seen + count:
            values.append(math.exp(bucket / BUCKETS_PER_E))
        seen += count
        if len(values) == 2:
            break
    return sum(values) / 2


def _bounds(day_from: date | None, day_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing calendar days to a UTC half-open range [from 00:00, the day after to)."""
    if day_from and day_to and day_from > day_to:
        raise field_error("from", "开始日期不能晚于结束日期")
    start = datetime.combine(day_from, time(), CHINA) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time(), CHINA) if day_to else None
    return start, end


def report_stats(ctx: Ctx, *, area: str | None = None, day_from: date | None = None,
                 day_to: date | None = None) -> dict[str, Any]:  # fmt: skip
    root = None
    if area:
        try:
            root = get_area_by_code(ctx.session, area, ctx.scope)
        except NotFound:
            raise field_error("area", "区域不存在或不在您负责的范围内") from None
    start, end = _bounds(day_from, day_to)

    def filters(area_column) -> list:
        where = [ctx.scope.filter(area_column)]
        if ctx.actor is not None and ctx.actor.role == "department_staff":
            where.append(Report.department_id == (ctx.actor.department_id or -1))
        if root is not None:
            where.append(area_column.in_(select(Area.id).where(Area.path.startswith(root.path))))
        if start:
            where.append(Report.created_at >= start)
        if end:
            where.append(Report.created_at < end)
        return where

    where = filters(Report.area_id)
    now = utcnow()
    # Grouped in the order of ix_reports_stats, so the index is read once, streaming.
    counts = (
        select(Report.area_id, Report.category_code, Report.state, func.count())
        .where(*where)
        .group_by(Report.area_id, Report.category_code, Report.state)
    )
    # Overdue cases are few and found by (state, due_at) without reading the rest.
    late_now = (
        select(Report.area_id, Report.category_code, Report.department_id, func.count())
        .where(*where, Report.state.in_(OPEN), Report.due_at < now)
        .group_by(Report.area_id, Report.category_code, Report.department_id)
    )
    # Medians come from a histogram of closing times (ix_reports_closed), never the rows;
    # the same pass counts the closed cases that ran late.
    closing = (
        select(Report.category_code, Report.department_id, Report.close_bucket, func.count(),
               func.sum(case((Report.late, 1), else_=0)))
        .where(*where, Report.state == "closed")
        .group_by(Report.category_code, Report.department_id, Report.close_bucket)
    )  # fmt: skip
    # Over many grids, reading the cell index in order beats grouping rows found by area:
    # "+area_id" keeps the planner (SQLite has no statistics) off the area indexes.
    broad = root is None and (ctx.scope.area_ids is None or len(ctx.scope.area_ids) > 8)
    area_column = literal_column("+reports.area_id", Integer) if broad else Report.area_id
    hot_query = (
        select(Report.cell, func.count().label("n"))
        .where(*filters(area_column), Report.cell.is_not(None))
        .group_by(Report.cell)
        .order_by(func.count().desc(), Report.cell)
        .limit(HOTSPOTS)
    )
    groups, overdue_rows, closing_rows, hot = _run_all(ctx, [counts, late_now, closing, hot_query])
    by_category, by_state, by_area = Counter(), Counter(), Counter()
    for area_id, category, state, n in groups:
        by_category[category] += n
        by_state[state] += n
        by_area[area_id] += n
    overdue_category, overdue_department, overdue_area = Counter(), Counter(), Counter()
    for area_id, category, department_id, n in overdue_rows:
        overdue_category[category] += n
        overdue_department[department_id] += n
        overdue_area[area_id] += n
    histograms: dict[str, Counter] = defaultdict(Counter)
    department_histograms: dict[int | None, Counter] = defaultdict(Counter)
    every: Counter = Counter()
    closed = late = 0
    for category, department_id, bucket, n, n_late in closing_rows:
        closed += n
        late += n_late or 0
        if bucket is None:
            continue
        histograms[category][bucket] += n
        department_histograms[department_id][bucket] += n
        every[bucket] += n
    closed_on_time = closed - late
    names = _names(ctx, by_area.keys() | overdue_area.keys(),
                   department_histograms.keys() | overdue_department.keys())  # fmt: skip
    categories = {c.code: c for c in all_categories(ctx.session)}

    def category_row(code: str, count: int) -> dict[str, Any]:
        c = categories.get(code)
        parent = categories.get(c.parent_code) if c and c.parent_code else None
        path = f"{parent.name}/{c.name}" if parent else (c.name if c else code)
        return {"code": code, "name": c.name if c else code, "path": path, "count": count}

    def median_hours(histogram: Counter) -> float | None:
        seconds = histogram_median(histogram)
        return round(seconds / 3600, 2) if seconds is not None else None

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
            "by_category": [{**category_row(k, v.total()), "median_hours": median_hours(v)}
                            for k, v in sorted(histograms.items(), key=lambda kv: -kv[1].total())],
            "by_department": [{**names["departments"].get(k, _NONE), "count": v.total(),
                               "median_hours": median_hours(v)}
                              for k, v in sorted(department_histograms.items(),
                                                 key=lambda kv: -kv[1].total())],
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
# The dashboard's queries read different indexes: side by side they take the time of the
# slowest rather than the sum (the database driver lets go of the GIL while it works).
_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="report-stats")


def _rows(read_session, statement) -> list:
    with read_session() as session:
        return session.connection().execute(statement).all()


def _run_all(ctx: Ctx, statements: list) -> list[list]:
    """The first statement in the caller's transaction, the others each in a read-only
    session of their own when the caller offers them (``ctx.read_session``), else in turn.
    Aggregates of thousands of small rows: plain Core rows, without the ORM's per-row work."""
    if ctx.read_session is None:
        return [ctx.session.connection().execute(s).all() for s in statements]
    futures = [_pool.submit(_rows, ctx.read_session, s) for s in statements[1:]]
    first = ctx.session.connection().execute(statements[0]).all()
    return [first, *(f.result() for f in futures)]


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

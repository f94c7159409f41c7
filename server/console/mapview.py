"""The dashboard's map: grid boundaries and open reports drawn as inline SVG on our own
server, so it works with no internet and no tile server."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from ledger.areas.boundary import Projection, bbox
from ledger.areas.operations import visible_areas
from ledger.context import Ctx
from ledger.db import utcnow
from ledger.reports.models import Report
from ledger.reports.reports import visible
from ledger.reports.workflow import FINAL, STATE_NAMES

WIDTH, HEIGHT = 800, 460
# A street has a few hundred open cases at most; beyond this the dots only hide each other.
MAX_POINTS = 1000
# How far past the outermost report a map without boundaries reaches (degrees, ~100 m).
MARGIN = 0.001
# Reports this far outside the drawn areas (~5 km) are GPS slips: listed, not drawn, so one
# fix at (0, 0) cannot shrink the whole map to a dot.
OUTSIDE = 0.05


@dataclass
class MapArea:
    code: str
    name: str
    level: str
    d: str
    label_x: float
    label_y: float


@dataclass
class MapPoint:
    id: str
    title: str
    state: str
    state_name: str
    overdue: bool
    urgent: bool
    x: float
    y: float


@dataclass
class ReportMap:
    width: int = WIDTH
    height: int = HEIGHT
    areas: list[MapArea] = field(default_factory=list)
    points: list[MapPoint] = field(default_factory=list)
    unplaced: int = 0  # open reports without coordinates
    has_boundaries: bool = False


def report_map(ctx: Ctx) -> ReportMap:
    """Visible areas with a boundary, and the open reports with coordinates on top of them."""
    areas = [a for a in visible_areas(ctx.session, ctx.scope) if a.boundary]
    rows = ctx.session.execute(
        select(Report.id, Report.title, Report.state, Report.lat, Report.lon, Report.due_at,
               Report.urgency)
        .where(visible(ctx), Report.state.not_in(FINAL))
        .order_by(Report.reported_at.desc())
        .limit(MAX_POINTS)
    ).all()  # fmt: skip
    placed = [r for r in rows if r.lat is not None and r.lon is not None]
    box = bbox(a.boundary for a in areas)
    if box is not None:
        w, s, e, n = (box[0] - OUTSIDE, box[1] - OUTSIDE, box[2] + OUTSIDE, box[3] + OUTSIDE)
        placed = [r for r in placed if w <= r.lon <= e and s <= r.lat <= n]
    if placed:
        lons, lats = [r.lon for r in placed], [r.lat for r in placed]
        w, s, e, n = box or (min(lons), min(lats), max(lons), max(lats))
        box = (min(w, min(lons) - MARGIN), min(s, min(lats) - MARGIN),
               max(e, max(lons) + MARGIN), max(n, max(lats) + MARGIN))  # fmt: skip
    result = ReportMap(unplaced=len(rows) - len(placed), has_boundaries=bool(areas))
    if box is None:
        return result
    proj = Projection(box, WIDTH, HEIGHT)
    # Larger areas first, so grids are drawn over (and clickable above) their community.
    for area in sorted(areas, key=lambda a: a.path.count("/")):
        west, south, east, north = bbox([area.boundary])
        x, y = proj.point((west + east) / 2, (south + north) / 2)
        result.areas.append(MapArea(area.code, area.name, area.level, proj.path(area.boundary),
                                    x, y))  # fmt: skip
    now = utcnow()
    for r in placed:
        x, y = proj.point(r.lon, r.lat)
        overdue = r.due_at is not None and r.due_at < now
        result.points.append(MapPoint(r.id, r.title, r.state, STATE_NAMES[r.state], overdue,
                                      r.urgency == "high", x, y))  # fmt: skip
    return result

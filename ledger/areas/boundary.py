"""Area boundaries as GeoJSON: checked, normalised to one (Multi)Polygon, and projected to SVG."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ledger.errors import InvalidInput

# A grid drawn by hand has tens of points, a street from a GIS export a few thousand.
MAX_POINTS = 20_000
DIGITS = 6  # ~0.1 m: more is noise from the GIS tool, and it bloats every map page


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, details={"fields": {"boundary": [message]}})


def _ring(raw: Any) -> list[list[float]]:
    if not isinstance(raw, list) or not raw:
        raise _invalid("边界的每个环应为坐标点列表")
    points = []
    for point in raw:
        if (
            not isinstance(point, list | tuple)
            or len(point) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point[:2])
        ):
            raise _invalid("坐标点应为 [经度, 纬度] 数字")
        lon, lat = float(point[0]), float(point[1])
        if not (math.isfinite(lon) and math.isfinite(lat)):
            raise _invalid("坐标不能是无穷大或非数字")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise _invalid("坐标超出范围：经度应在 -180～180，纬度应在 -90～90（顺序为经度在前）")
        points.append([round(lon, DIGITS), round(lat, DIGITS)])
    # GIS tools differ on repeating the first point at the end; GeoJSON requires it.
    if points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4:
        raise _invalid("边界的每个环至少需要三个不同的点")
    return points


def _polygon(raw: Any) -> list[list[list[float]]]:
    if not isinstance(raw, list) or not raw:
        raise _invalid("多边形应包含至少一个环")
    return [_ring(r) for r in raw]


def _polygons(geometry: Any) -> list[list[list[list[float]]]]:
    if not isinstance(geometry, dict):
        raise _invalid("边界应为 GeoJSON 对象")
    kind = geometry.get("type")
    if kind == "Polygon":
        return [_polygon(geometry.get("coordinates"))]
    if kind == "MultiPolygon":
        coords = geometry.get("coordinates")
        if not isinstance(coords, list) or not coords:
            raise _invalid("MultiPolygon 不能为空")
        return [_polygon(p) for p in coords]
    if kind == "Feature":
        return _polygons(geometry.get("geometry"))
    if kind == "FeatureCollection":
        features = geometry.get("features")
        if not isinstance(features, list) or not features:
            raise _invalid("FeatureCollection 不能为空")
        return [p for f in features for p in _polygons(f)]
    raise _invalid("边界应为 Polygon、MultiPolygon、Feature 或 FeatureCollection 类型的 GeoJSON")


def normalize_boundary(geojson: Any) -> dict[str, Any]:
    """One Polygon or MultiPolygon geometry, closed rings, WGS84 [lon, lat], 6 decimals."""
    polygons = _polygons(geojson)
    if sum(len(ring) for poly in polygons for ring in poly) > MAX_POINTS:
        raise _invalid(f"边界的坐标点过多（最多 {MAX_POINTS} 个），请先在 GIS 软件中简化")
    if len(polygons) == 1:
        return {"type": "Polygon", "coordinates": polygons[0]}
    return {"type": "MultiPolygon", "coordinates": polygons}


def rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    polygons = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    for polygon in polygons:
        yield from polygon


def bbox(geometries: Iterable[dict[str, Any]]) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) around all the geometries, or None when there are none."""
    lons, lats = [], []
    for geometry in geometries:
        for ring in rings(geometry):
            lons.extend(p[0] for p in ring)
            lats.extend(p[1] for p in ring)
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


class Projection:
    """Equirectangular lon/lat → SVG pixels, scaled by cos(latitude) so a city block keeps its
    shape: at grid and street sizes this is indistinguishable from Web Mercator, and it needs
    no tiles or projection library."""

    def __init__(self, box: tuple[float, float, float, float], width: int, height: int,
                 pad: int = 16) -> None:  # fmt: skip
        west, south, east, north = box
        self.kx = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * self.kx, 1e-6)
        span_y = max(north - south, 1e-6)
        self.scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        # Centre the drawing in the frame along the axis that has room to spare.
        self.x0 = pad + ((width - 2 * pad) - span_x * self.scale) / 2 - west * self.kx * self.scale
        self.y0 = pad + ((height - 2 * pad) - span_y * self.scale) / 2 + north * self.scale

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return (round(self.x0 + lon * self.kx * self.scale, 1),
                round(self.y0 - lat * self.scale, 1))  # fmt: skip

    def path(self, geometry: dict[str, Any]) -> str:
        """An SVG path ``d`` for a Polygon or MultiPolygon (holes drawn with evenodd)."""
        parts = []
        polygons = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        for polygon in polygons:
            for ring in polygon:
                xy = [self.point(lon, lat) for lon, lat in ring]
                parts.append("M" + " L".join(f"{x},{y}" for x, y in xy) + " Z")
        return " ".join(parts)

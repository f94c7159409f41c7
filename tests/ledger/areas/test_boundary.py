"""Boundary GeoJSON: what is accepted, how it is normalised, and the SVG projection."""

from __future__ import annotations

import pytest

from ledger.areas.boundary import Projection, bbox, normalize_boundary
from ledger.errors import InvalidInput

SQUARE = [[120.15, 30.27], [120.16, 30.27], [120.16, 30.28], [120.15, 30.28]]


def test_open_rings_are_closed_and_features_unwrapped():
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}}
    got = normalize_boundary(feature)
    assert got == {"type": "Polygon", "coordinates": [[*SQUARE, SQUARE[0]]]}


def test_a_collection_of_polygons_becomes_one_multipolygon_rounded():
    other = [[120.2000001, 30.3], [120.21, 30.3], [120.21, 30.31], [120.2000001, 30.3]]
    got = normalize_boundary({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
        {"type": "Feature", "geometry": {"type": "MultiPolygon", "coordinates": [[other]]}},
    ]})  # fmt: skip
    assert got["type"] == "MultiPolygon" and len(got["coordinates"]) == 2
    assert got["coordinates"][1][0][0] == [120.2, 30.3]
    assert bbox([got]) == (120.15, 30.27, 120.21, 30.31)


@pytest.mark.parametrize(
    ("geojson", "words"),
    [
        ({"type": "Point", "coordinates": [120, 30]}, "Polygon"),
        ({"type": "Polygon", "coordinates": [[[120, 30], [121, 30]]]}, "三个不同的点"),
        (
            {"type": "Polygon", "coordinates": [[[30.27, 120.15], [30.28, 120.16], [30.2, 120.1]]]},
            "经度在前",
        ),
        ({"type": "Polygon", "coordinates": [[["120", "30"], [121, 30], [121, 31]]]}, "数字"),
        ({"type": "Polygon", "coordinates": [[[float("nan"), 30], [121, 30], [121, 31]]]}, "无穷"),
        ({"type": "FeatureCollection", "features": []}, "不能为空"),
        ("POLYGON((120 30, 121 30, 121 31))", "GeoJSON"),
    ],
)
def test_bad_boundaries_say_what_is_wrong(geojson, words):
    with pytest.raises(InvalidInput) as err:
        normalize_boundary(geojson)
    assert words in err.value.message
    assert err.value.details["fields"]["boundary"] == [err.value.message]


def test_too_many_points_are_refused():
    ring = [[120 + i * 1e-5, 30 + (i % 2) * 1e-5] for i in range(20_001)]
    with pytest.raises(InvalidInput, match="过多"):
        normalize_boundary({"type": "Polygon", "coordinates": [ring]})


def test_projection_keeps_shape_and_fits_the_frame():
    square = normalize_boundary({"type": "Polygon", "coordinates": [SQUARE]})
    proj = Projection(bbox([square]), 400, 300, pad=10)
    xs, ys = zip(*(proj.point(lon, lat) for lon, lat in SQUARE), strict=True)
    # North is up, east is right, and everything lies inside the padded frame.
    assert proj.point(120.15, 30.28)[1] < proj.point(120.15, 30.27)[1]
    assert proj.point(120.16, 30.27)[0] > proj.point(120.15, 30.27)[0]
    assert min(xs) >= 10 and max(xs) <= 390 and min(ys) >= 10 and max(ys) <= 290
    # 0.01° of longitude at 30°N is ~0.866 of 0.01° of latitude on the ground.
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    assert width / height == pytest.approx(0.866, abs=0.01)
    d = proj.path(square)
    assert d.startswith("M") and d.endswith("Z") and d.count("L") == 4

"""Distances, search boxes, geohash cells and closing-time medians from histograms."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest

from ledger.reports import geo
from ledger.reports.stats import close_bucket, histogram_median


def test_distance_and_box():
    # One thousandth of a degree of latitude is about 111 m anywhere.
    assert geo.distance_m(30.0, 120.0, 30.001, 120.0) == pytest.approx(111.2, abs=0.2)
    assert geo.distance_m(30.0, 120.0, 30.0, 120.0) == 0
    min_lat, max_lat, min_lon, max_lon = geo.box(30.0, 120.0, 50)
    assert geo.distance_m(30.0, 120.0, max_lat, 120.0) == pytest.approx(50, abs=0.1)
    assert geo.distance_m(30.0, 120.0, 30.0, max_lon) == pytest.approx(50, abs=0.1)
    assert min_lat < 30.0 < max_lat and min_lon < 120.0 < max_lon


def test_geohash_cells():
    # The reference value of the geohash algorithm's documentation.
    assert geo.geohash(57.64911, 10.40744, 11) == "u4pruydqqvj"
    cell = geo.geohash(30.2741, 120.1551)
    assert len(cell) == 7 and cell == geo.geohash(30.27411, 120.15511)
    lat, lon = geo.cell_center(cell)
    assert geo.distance_m(lat, lon, 30.2741, 120.1551) < 110
    assert geo.geohash(lat, lon) == cell


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 5000])
def test_histogram_median_is_within_the_bucket_width(n):
    rng = random.Random(n)
    seconds = [int(rng.lognormvariate(11.5, 0.8)) for _ in range(n)]
    histogram = Counter(close_bucket(s) for s in seconds)
    exact = statistics.median(seconds)
    assert histogram_median(histogram) == pytest.approx(exact, rel=0.017)


def test_empty_histogram_has_no_median():
    assert histogram_median(Counter()) is None

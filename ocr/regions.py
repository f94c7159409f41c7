"""GB/T 2260 administrative division codes, current and historical, from a bundled table."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = [
    "Region",
    "codes_for_place",
    "codes_in_year",
    "current_year",
    "is_current",
    "province_of",
    "random_region",
    "region",
    "region_name",
    "townships",
]

_DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True, slots=True)
class Region:
    """One name a code carried over a span of years (the table's snapshot years)."""

    code: str
    first_year: int
    last_year: int
    province: str
    city: str
    county: str

    @property
    def name(self) -> str:
        """The full name as written in an address: province, city (if any), county (if any)."""
        return self.province + self.city + self.county


@dataclass(frozen=True, slots=True)
class _Table:
    spans: dict[str, tuple[Region, ...]]
    provinces: dict[str, str]
    latest_year: int
    # Sorted so random picks depend only on the seed, not on dict or set ordering.
    current_districts: tuple[str, ...]


def _rows(name: str):
    with open(_DATA / name, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            yield line.rstrip("\n").split("\t")


@cache
def _table() -> _Table:
    # Loaded on first use: ~9,000 rows take a few milliseconds, and most callers never need them.
    raw: dict[str, list[tuple[int, int, str, str]]] = {}
    provinces: dict[str, str] = {}
    for code, first, last, city, county in _rows("regions.tsv"):
        if code.endswith("0000"):
            provinces[code[:2]] = county
        raw.setdefault(code, []).append((int(first), int(last), city, county))
    spans: dict[str, tuple[Region, ...]] = {}
    for code, entries in raw.items():
        province = provinces.get(code[:2], "")
        regions = [
            Region(code, first, last, province, city, "" if code.endswith("0000") else county)
            for first, last, city, county in entries
        ]
        # Latest span last, so spans[code][-1] is the name in force most recently.
        regions.sort(key=lambda r: (r.last_year, r.first_year))
        spans[code] = tuple(regions)
    latest = max(r.last_year for regions in spans.values() for r in regions)

    current = {code for code, regions in spans.items() if regions[-1].last_year == latest}
    parents = {code[:4] for code in current if not code.endswith("00")}
    districts = []
    for code in current:
        if code.endswith("0000"):
            continue
        top = spans[code][-1]
        if code.endswith("00"):
            # A prefecture-level city with no county level under it (e.g. 东莞市 441900) is itself
            # the smallest unit and appears in ID numbers.
            if top.city and code[:4] not in parents:
                districts.append(code)
        elif top.county:
            districts.append(code)
    return _Table(spans, provinces, latest, tuple(sorted(districts)))


def current_year() -> int:
    """The year of the newest snapshot in the table (its "current" state)."""
    return _table().latest_year


def region(code: str, year: int | None = None) -> Region | None:
    """The Region a 6-digit code named, in ``year`` if given (else most recently), or None."""
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        return None
    table = _table()
    spans = table.spans.get(code)
    if spans is None:
        # 市辖区-style codes (e.g. 440301) are listed only in some revisions; fall back to the
        # prefecture so older ID numbers carrying them still resolve.
        if not code.endswith("00") and code[4:] == "01":
            parent = region(code[:4] + "00", year)
            return None if parent is None else Region(code, *_span_fields(parent))
        return None
    if year is None:
        return spans[-1]
    for candidate in spans:
        if candidate.first_year <= year <= candidate.last_year:
            return candidate
    # Outside every span: the span closest in time is the best guess.
    return min(spans, key=lambda r: min(abs(year - r.first_year), abs(year - r.last_year)))


def _span_fields(parent: Region) -> tuple[int, int, str, str, str]:
    return parent.first_year, parent.last_year, parent.province, parent.city, parent.county


def region_name(code: str, year: int | None = None) -> str | None:
    """Full name for a 6-digit code, e.g. "北京市东城区"; historical codes included; else None."""
    found = region(code, year)
    return None if found is None else found.name


def province_of(code: str) -> str | None:
    """Province-level name for a code (or any string starting with its two digits), else None."""
    if not isinstance(code, str) or len(code) < 2 or not code[:2].isdigit():
        return None
    return _table().provinces.get(code[:2])


def is_current(code: str) -> bool:
    """True if the code is in the newest snapshot of the table."""
    spans = _table().spans.get(code)
    return bool(spans) and spans[-1].last_year == _table().latest_year


@cache
def _codes_by_name() -> dict[str, tuple[str, ...]]:
    spans_by_code = _table().spans
    parents = {code[:4] for code in spans_by_code if not code.endswith("00")}
    by_name: dict[str, set[str]] = {}
    for code, spans in spans_by_code.items():
        for place in spans:
            # Down to the county, or a city with no county level under it (东莞市).
            if place.county or (place.city and code[4:] == "00" and code[:4] not in parents):
                by_name.setdefault(place.name, set()).add(code)
    return {name: tuple(sorted(codes)) for name, codes in by_name.items()}


def codes_for_place(text: str) -> tuple[str, ...]:
    """County-level codes (any year) of the longest full name ``text`` starts with:
    "黑龙江省大庆市肇州县朝阳乡" gives 230621. Empty if it starts with no county-level name."""
    by_name = _codes_by_name()
    for end in range(min(len(text), 24), 3, -1):
        codes = by_name.get(text[:end])
        if codes:
            return codes
    return ()


@cache
def _codes_by_year(year: int) -> tuple[str, ...]:
    table = _table()
    return tuple(
        sorted(
            code
            for code, spans in table.spans.items()
            if not code.endswith("00")
            and any(r.first_year <= year <= r.last_year and r.county for r in spans)
        )
    )


def codes_in_year(year: int) -> tuple[str, ...]:
    """County-level codes (sorted) that existed in ``year``, including since-abolished ones."""
    return _codes_by_year(year)


def random_region(rng: random.Random, year: int | None = None) -> str:
    """A real county-level code: a current one, or one that existed in ``year`` when given."""
    pool = _table().current_districts if year is None else codes_in_year(year)
    if not pool:
        pool = _table().current_districts
    return pool[rng.randrange(len(pool))]


@cache
def _townships() -> dict[str, tuple[str, ...]]:
    return {code: tuple(names.split()) for code, names in _rows("townships.tsv")}


def townships(code: str) -> tuple[str, ...]:
    """A few real township-level names (街道/镇/乡) under a current county code; may be empty."""
    return _townships().get(code, ())

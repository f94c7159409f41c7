"""Repair of misread region names (province, city, county) in addresses against GB/T 2260."""

from __future__ import annotations

from functools import cache

from ocr import regions

__all__ = ["fix_place"]


@cache
def _names() -> dict[str, dict[str, bool]]:
    """Region names an address or birthplace can start with, by first character, each mapped
    to whether it goes down to the county level."""
    by_start: dict[str, dict[str, bool]] = {}
    # Every span of every code, historical names included (registers outlive renamings); the
    # module has no public iterator over its table.
    for spans in regions._table().spans.values():
        for place in spans:
            if not place.province:
                continue
            for name, county in (
                (place.name, bool(place.county)),
                (place.province + place.city, False),
            ):
                if len(name) > len(place.province):
                    names = by_start.setdefault(name[0], {})
                    names[name] = names.get(name, False) or county
    return by_start


def _mismatches(a: str, b: str) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


def fix_place(text: str | None, whole: bool = False) -> tuple[str | None, bool]:
    """``text`` with a region name at its start (or, if ``whole``, as all of it) corrected.

    Only when no real name matches down to the county, exactly one longest name is one
    character away (two for names of ten or more) and none is closer. Returns (text, corrected).
    """
    if not text or len(text) < 4:
        return text, False
    names = _names().get(text[0], {})
    pool = [n for n in names if (len(n) == len(text) if whole else len(n) <= len(text))]
    exact = [n for n in pool if text.startswith(n)]
    if (whole and exact) or any(names[n] for n in exact):
        return text, False
    floor = max(map(len, exact), default=0)
    scored = _near(text, pool, floor)
    if not scored and not exact:
        # The first character itself may be the misread one (辽宁省 read as 江宁省).
        pool = [
            n
            for bucket in _names().values()
            for n in bucket
            if (len(n) == len(text) if whole else len(n) <= len(text))
        ]
        scored = _near(text, pool, floor)
    if not scored:
        return text, False
    scored.sort()
    distance, length, name = scored[0]
    if any(d == distance and n == length and other != name for d, n, other in scored[1:]):
        return text, False
    return name + text[len(name) :], True


def _near(text: str, pool: list[str], floor: int) -> list[tuple[int, int, str]]:
    """Names in ``pool`` longer than ``floor`` that ``text`` starts with but for a misread or
    two, as (distance, -length, name)."""
    scored = []
    for name in pool:
        if len(name) <= floor:
            continue
        distance = _mismatches(text[: len(name)], name)
        if 0 < distance <= (2 if len(name) >= 10 else 1):
            scored.append((distance, -len(name), name))
    return scored

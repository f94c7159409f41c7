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


def fix_place(
    text: str | None, whole: bool = False, prefer: str | None = None
) -> tuple[str | None, bool]:
    """``text`` with a region name at its start (or, if ``whole``, as all of it) corrected.

    Only when no real name matches down to the county, exactly one longest name is one
    character away (two for names of ten or more) and none is closer; ``prefer`` (a real name
    printed elsewhere on the page) breaks a tie between names equally near. A province name
    partly lost before a city and county that place it is restored, and a stray character or
    two before a whole region name dropped. Returns (text, corrected).
    """
    if not text or len(text) < 4:
        return text, False
    names = _names().get(text[0], {})
    pool = [n for n in names if (len(n) == len(text) if whole else len(n) <= len(text))]
    exact = [n for n in pool if text.startswith(n)]
    if (whole and exact) or any(names[n] for n in exact):
        return text, False
    fixed = _nearest(text, whole, prefer, pool, exact)
    if fixed is not None:
        return fixed, True
    if exact:
        # It starts with a real province or city: the rest is not a region name to repair.
        return text, False
    for repair in (_restore_province, _drop_stray):
        fixed = repair(text, whole)
        if fixed is not None:
            return fixed, True
    return text, False


def _nearest(
    text: str, whole: bool, prefer: str | None, pool: list[str], exact: list[str]
) -> str | None:
    """``text`` with its start replaced by the one region name nearest to it, if any."""
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
        return None
    scored.sort()
    distance, length, name = scored[0]
    tied = [other for d, n, other in scored if d == distance and n == length]
    if len(tied) > 1:
        chosen = [n for n in tied if prefer and n in prefer]
        if len(chosen) != 1:
            return None
        name = chosen[0]
    return name + text[len(name) :]


@cache
def _below_province(county: bool) -> dict[str, dict[str, set[str]]]:
    """Names below the province (city and county if ``county``, else a city alone) by first
    character, each mapped to the provinces it lies in."""
    by_start: dict[str, dict[str, set[str]]] = {}
    for spans in regions._table().spans.values():
        for place in spans:
            if place.province and place.city and bool(place.county) == county:
                name = place.city + place.county
                by_start.setdefault(name[0], {}).setdefault(name, set()).add(place.province)
    return by_start


def _restore_province(text: str, whole: bool) -> str | None:
    """广西壮族自柳州市… or 省大庆市肇州县…: what is left of a province name (glare, a fold),
    then a city and county of exactly one province (a city alone when ``whole``)."""
    for start in range(1, min(8, len(text) - 2)):
        head, rest = text[:start], text[start:]
        names = _below_province(not whole).get(rest[0], {})
        provinces = set()
        for name, within in names.items():
            if rest == name if whole else rest.startswith(name):
                provinces |= {p for p in within if head != p and _subsequence(head, p)}
        if len(provinces) == 1:
            return provinces.pop() + rest
    return None


def _subsequence(part: str, whole: str) -> bool:
    chars = iter(whole)
    return all(ch in chars for ch in part)


def _drop_stray(text: str, whole: bool) -> str | None:
    """旗黑龙江省哈尔滨市: a character or two run on from a neighbouring cell before a real
    name (the whole of it when ``whole``, else one that goes down to the county)."""
    for start in (1, 2):
        rest = text[start:]
        names = _names().get(rest[:1], {})
        if whole and rest in names:
            return rest
        if not whole and any(county and rest.startswith(n) for n, county in names.items()):
            return rest
    return None


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

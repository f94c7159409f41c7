"""Place names a speaker's area is likely to dictate: area names and named places in addresses."""

from __future__ import annotations

import re
import threading
import time
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.areas.models import Area
from ledger.registry.models import Household, Person

__all__ = ["extract_places", "place_names"]

# Suffixes that end a named place in an address, and administrative ones that end a unit we
# skip (a district or city name is not what a grid worker dictates). Longest first.
_PLACE_WORDS = (
    "小区 花园 家园 新村 新城 公寓 大厦 广场 市场 苑 园 府 城 庭 居 湾 村 社区 街道 "
    "镇 乡 路 大街 街 巷 胡同 弄 里 屯 庄 营 堡 寨 坊"
)
_PLACE_SUFFIXES = tuple(sorted(_PLACE_WORDS.split(), key=len, reverse=True))
_ADMIN_SUFFIXES = ("自治区", "自治州", "省", "市", "地区", "盟", "区", "县", "旗", "组")
_ALL_SUFFIXES = _PLACE_SUFFIXES + _ADMIN_SUFFIXES
_NOT_NAME = re.compile(r"[^\u4e00-\u9fff]+")
# Numbered parts of an address (3号楼, 2单元, 十二组): building, unit and room are not names.
_NUMBERED = re.compile(
    r"[0-9０-９一二三四五六七八九十百零〇]*[0-9０-９]+[A-Za-z]?(?:号楼|号院|号|栋|幢|单元|室|层|楼|座|组)?"
    r"|[一二三四五六七八九十百零〇]+(?:号楼|号院|号|栋|幢|单元|室|层|楼|组)"
)
MAX_NAME = 10
# How many addresses to read per call: enough to find every compound of a community.
ADDRESS_SAMPLE = 5000
CACHE_SECONDS = 300

_cache: dict[int, tuple[float, list[str]]] = {}
_cache_lock = threading.Lock()


def _ends_with(text: str, suffixes: tuple[str, ...]) -> str | None:
    return next((suf for suf in suffixes if text.endswith(suf)), None)


def _place_end(chunk: str, i: int) -> int | None:
    """End of the place name starting at ``i``: the first suffix, extended while the text
    goes on into a longer suffix (和平街|道) or another suffix (幸福里|小区, 幸福花园|小区)."""
    best = None
    for j in range(i + 2, min(len(chunk), i + MAX_NAME) + 1):
        suffix = _ends_with(chunk[i:j], _ALL_SUFFIXES)
        if suffix is None:
            continue
        best = j
        longer = any(
            (s := _ends_with(chunk[i:k], _ALL_SUFFIXES)) and k - len(s) < j
            for k in range(j + 1, min(len(chunk), j + 2) + 1)
        )
        if not longer and not any(chunk.startswith(s, j) for s in _ALL_SUFFIXES):
            break
    return best


def extract_places(address: str) -> list[str]:
    """Named places in one address in order: 和平街道、幸福小区 from 北京市朝阳区和平街道幸福
    小区3号楼; districts and cities are left out, and so are numbered parts (3号楼, 二组)."""
    found: list[str] = []
    for chunk in _NOT_NAME.split(_NUMBERED.sub(" ", address or "")):
        i = 0
        while i < len(chunk) - 1:
            end = _place_end(chunk, i)
            if end is None:
                i += 1
                continue
            name = chunk[i:end]
            # Place suffixes come first in _ALL_SUFFIXES, so 小区 and 社区 win over 区.
            if _ends_with(name, _ALL_SUFFIXES) in _PLACE_SUFFIXES:
                found.append(name)
            i = end
    return found


def _area_names(session: Session, area: Area) -> list[str]:
    ancestor_ids = [int(p) for p in area.path.strip("/").split("/") if p]
    rows = session.execute(
        select(Area.name, Area.level)
        .where(Area.id.in_(ancestor_ids) | Area.path.startswith(area.path))
        .order_by(Area.path)
    ).all()
    names: list[str] = []
    for name, level in rows:
        if level == "grid":
            # Grid names ("第一网格") are labels, not places anyone says in a report.
            continue
        names.append(name)
    return names


def _address_names(session: Session, area: Area) -> Counter[str]:
    in_area = Area.path.startswith(area.path)
    counts: Counter[str] = Counter()
    for model, column in (
        (Household, Household.address),
        (Person, Person.current_address),
    ):
        stmt = (
            select(column)
            .join(Area, Area.id == model.area_id)
            .where(in_area, column.is_not(None))
            .limit(ADDRESS_SAMPLE)
        )
        for (address,) in session.execute(stmt):
            counts.update(set(extract_places(address)))
    return counts


def place_names(session: Session, area: Area, *, limit: int = 200) -> list[str]:
    """Names for speech hot words: the area's own line (street, community) and its sub-areas,
    then compounds, roads and villages named in its addresses, the most frequent first.

    Cached per area for a few minutes: dictation is frequent and addresses change slowly.
    """
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(area.id)
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1][:limit]
    names = dict.fromkeys(_area_names(session, area))
    for name, _count in _address_names(session, area).most_common():
        names.setdefault(name)
    result = list(names)
    with _cache_lock:
        _cache[area.id] = (now, result)
    return result[:limit]


def forget_cached(area_id: int | None = None) -> None:
    """Drop cached names (tests, and after bulk imports)."""
    with _cache_lock:
        if area_id is None:
            _cache.clear()
        else:
            _cache.pop(area_id, None)

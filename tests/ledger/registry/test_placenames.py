"""Hot-word place names: extracted from real addresses and collected per area from the DB."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ledger.areas.models import Area
from ledger.registry import households as hh_ops
from ledger.registry.placenames import extract_places, forget_cached, place_names
from tests.ledger.registry.test_people_ops import make_ctx, person


@pytest.mark.parametrize(
    ("address", "names"),
    [
        ("北京市朝阳区和平街道幸福小区3号楼2单元301", ["和平街道", "幸福小区"]),
        ("城关镇李家村三组", ["城关镇", "李家村"]),
        ("朝阳区建国门外大街1号国贸大厦A座", ["建国门外大街", "国贸大厦"]),
        ("东城区南锣鼓巷12号", ["南锣鼓巷"]),
        ("浙江省杭州市西湖区文三路90号东部软件园", ["文三路", "东部软件园"]),
        ("幸福里小区5栋", ["幸福里小区"]),
        ("阳光新城三号楼", ["阳光新城"]),
        ("三里屯", ["三里屯"]),
        ("新疆维吾尔自治区乌鲁木齐市天山区", []),
        ("", []),
    ],
)
def test_named_places_in_addresses(address, names):
    assert extract_places(address) == names


@pytest.fixture
def session(app, tree):
    forget_cached()
    s = app.extensions["wangge_sessionmaker"]()
    yield s
    s.rollback()
    s.close()
    forget_cached()


def _area(session, code: str) -> Area:
    return session.scalar(select(Area).where(Area.code == code))


def test_area_line_then_frequent_compounds(session):
    ctx = make_ctx(session, "C1")
    for i in range(3):
        hh_ops.create_household(ctx, {"area": "G1", "address": f"北山街道幸福里小区{i + 1}号楼"})
    hh_ops.create_household(ctx, {"area": "G2", "address": "宝石山路8号栖霞苑"})
    person(ctx, "住户", area="G1", current_address="保俶路12号")
    # Another community's addresses are not this grid's vocabulary.
    hh_ops.create_household(make_ctx(session, "C2"), {"area": "G3", "address": "黄龙花园1幢"})
    session.flush()

    names = place_names(session, _area(session, "C1"))
    # The area's own line first (district to community), grid labels left out.
    assert names[:3] == ["西湖区", "北山街道", "宝石社区"]
    assert "宝石第一网格" not in names
    assert names[3] == "幸福里小区"  # named by three households
    assert {"宝石山路", "栖霞苑", "保俶路"} <= set(names)
    assert "黄龙花园" not in names and "黄龙社区" not in names

    grid = place_names(session, _area(session, "G2"))
    assert "栖霞苑" in grid and "幸福里小区" not in grid
    assert place_names(session, _area(session, "C1"), limit=2) == ["西湖区", "北山街道"]

"""The default category tree: two levels, a department and deadlines for every leaf."""

from __future__ import annotations

from ledger.reports.taxonomy import CATEGORIES, DEPARTMENTS, LEAVES, TOP, path_of


def test_two_levels_with_departments_and_deadlines():
    tops = {c.code for c in TOP}
    assert {
        "市容环境",
        "宣传广告",
        "施工管理",
        "突发事件",
        "街面秩序",
        "公用设施",
        "道路交通",
        "园林绿化",
        "矛盾纠纷",
        "安全隐患",
        "民生服务",
        "特殊人群",
    } == {c.name for c in TOP}
    for leaf in LEAVES:
        assert leaf.parent in tops, leaf.code
        assert leaf.code.startswith(leaf.parent + "."), leaf.code
        assert leaf.department in DEPARTMENTS, leaf.code
        assert set(leaf.deadlines) == {"accept", "dispatch", "resolve", "verify"}
        assert all(hours > 0 for hours in leaf.deadlines.values())
        assert leaf.keywords, leaf.code
    assert len(CATEGORIES) == len(TOP) + len(LEAVES)  # codes are unique
    # Every top class has leaves; emergencies move fastest.
    assert tops == {leaf.parent for leaf in LEAVES}
    fire = CATEGORIES["event.emergency.fire"]
    assert fire.deadlines["resolve"] < CATEGORIES["event.city.garbage"].deadlines["resolve"]


def test_paths_name_the_parent():
    assert path_of("event.city.garbage") == "市容环境/暴露垃圾"
    assert path_of("event.city") == "市容环境"

"""The area tree: creation rules for admins and the subtree each role may see."""

from __future__ import annotations

import pytest

AREAS = "/api/v1/areas"


def codes(nodes) -> list[str]:
    """Depth-first codes of a nested tree, to compare shapes compactly."""
    out = []
    for node in nodes:
        out.append(node["code"])
        out.extend(codes(node["children"]))
    return out


def shape(nodes) -> dict:
    return {n["code"]: shape(n["children"]) for n in nodes}


@pytest.fixture
def root_admin(make_user):
    """An admin on an empty area table."""
    return make_user("admin")


def test_admin_builds_a_tree(root_admin):
    steps = [
        ("330106", "西湖区", "district", None),
        ("330106001", "北山街道", "street", "330106"),
        ("330106001001", "宝石社区", "community", "330106001"),
        ("330106001001001", "第一网格", "grid", "330106001001"),
    ]
    for code, name, level, parent in steps:
        r = root_admin.post(
            AREAS, json={"code": code, "name": name, "level": level, "parent_code": parent}
        )
        assert r.status_code == 201, r.get_json()
        assert r.get_json() == {
            "code": code,
            "name": name,
            "level": level,
            "parent_code": parent,
            "children": [],
        }
    tree = root_admin.get(AREAS).get_json()["items"]
    assert shape(tree) == {"330106": {"330106001": {"330106001001": {"330106001001001": {}}}}}
    grid = tree[0]["children"][0]["children"][0]["children"][0]
    assert grid == {
        "code": "330106001001001",
        "name": "第一网格",
        "level": "grid",
        "parent_code": "330106001001",
        "children": [],
    }


def test_names_are_trimmed_and_parent_optional_for_districts(root_admin):
    r = root_admin.post(AREAS, json={"code": "D9", "name": "  拱墅区 ", "level": "district"})
    assert r.status_code == 201
    assert r.get_json()["name"] == "拱墅区" and r.get_json()["parent_code"] is None
    # An empty parent code means "no parent", and the answer says so the same way the tree does.
    r = root_admin.post(
        AREAS, json={"code": "D8", "name": "上城区", "level": "district", "parent_code": ""}
    )
    assert r.status_code == 201 and r.get_json()["parent_code"] is None
    roots = root_admin.get(AREAS).get_json()["items"]
    assert [(n["code"], n["parent_code"]) for n in roots] == [("D8", None), ("D9", None)]


@pytest.mark.parametrize(
    ("level", "parent"),
    [
        ("district", "S1"),  # a district has no parent
        ("street", None),  # a street needs a district
        ("street", "C1"),  # ... not a community
        ("community", "D1"),  # a community sits in a street, not directly in a district
        ("grid", "S1"),  # a grid sits in a community
        ("grid", "G1"),  # grids do not nest
        ("community", "NOPE"),  # the parent must exist
    ],
)
def test_wrong_level_nesting_is_422(admin, level, parent):
    r = admin.post(
        AREAS, json={"code": "NEW1", "name": "新区域", "level": level, "parent_code": parent}
    )
    assert r.status_code == 422, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "validation_error"
    assert list(err["details"]["fields"]) == ["parent_code"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"])
    assert "NEW1" not in codes(admin.get(AREAS).get_json()["items"])


def test_nesting_message_names_the_levels(admin):
    r = admin.post(
        AREAS, json={"code": "G9", "name": "网格九", "level": "grid", "parent_code": "S1"}
    )
    assert r.get_json()["error"]["message"] == "网格的上级必须是社区/村"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "bad code", "name": "x", "level": "grid", "parent_code": "C1"}, "code"),
        ({"code": "区域", "name": "x", "level": "grid", "parent_code": "C1"}, "code"),
        ({"code": "OK1", "name": "   ", "level": "grid", "parent_code": "C1"}, "name"),
        ({"code": "OK1", "name": "x", "level": "village", "parent_code": "C1"}, "level"),
        ({"code": "OK1", "name": "x", "parent_code": "C1"}, "level"),
        ({"code": "A" * 33, "name": "x", "level": "grid", "parent_code": "C1"}, "code"),
    ],
)
def test_invalid_fields_are_422(admin, body, field):
    r = admin.post(AREAS, json=body)
    assert r.status_code == 422, r.get_json()
    fields = r.get_json()["error"]["details"]["fields"]
    assert field in fields
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in str(m)) for m in fields.values())


def test_level_choices_are_listed_in_chinese(admin):
    r = admin.post(AREAS, json={"code": "X", "name": "x", "level": "village"})
    assert r.get_json()["error"]["details"]["fields"]["level"] == [
        "取值应为：district, street, community, grid"
    ]


def test_duplicate_code_is_409(admin):
    r = admin.post(AREAS, json={"code": "G1", "name": "重复", "level": "grid", "parent_code": "C2"})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "areas.duplicate_code" and err["details"] == {"code": "G1"}
    assert err["message"] == "该区域编码已存在"
    tree = admin.get(AREAS).get_json()["items"]
    assert codes(tree).count("G1") == 1


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "dispatcher"])
def test_non_admin_cannot_create_areas(make_user, tree, role):
    area = {"grid_worker": "G1", "community_staff": "C1", "dispatcher": "S1"}[role]
    user = make_user(role, area)
    r = user.post(
        AREAS, json={"code": "G9", "name": "网格九", "level": "grid", "parent_code": "C1"}
    )
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "auth.forbidden"
    assert "G9" not in codes(user.get(AREAS).get_json()["items"])


def test_admin_sees_everything(admin):
    tree = admin.get(AREAS).get_json()["items"]
    assert shape(tree) == {"D1": {"S1": {"C1": {"G1": {}, "G2": {}}, "C2": {"G3": {}}}}}
    assert tree[0]["parent_code"] is None
    assert tree[0]["name"] == "西湖区" and tree[0]["level"] == "district"


def test_admin_sees_several_roots(admin):
    admin.post(AREAS, json={"code": "D2", "name": "上城区", "level": "district"})
    roots = admin.get(AREAS).get_json()["items"]
    assert sorted(n["code"] for n in roots) == ["D1", "D2"]


def test_grid_worker_sees_only_its_grid(worker_a):
    tree = worker_a.get(AREAS).get_json()["items"]
    assert tree == [
        {
            "code": "G1",
            "name": "宝石第一网格",
            "level": "grid",
            "parent_code": "C1",
            "children": [],
        }
    ]


def test_community_staff_sees_its_community_subtree(staff):
    tree = staff.get(AREAS).get_json()["items"]
    assert shape(tree) == {"C1": {"G1": {}, "G2": {}}}
    assert tree[0]["parent_code"] == "S1"
    assert {c["parent_code"] for c in tree[0]["children"]} == {"C1"}


def test_street_dispatcher_sees_the_street(dispatcher):
    tree = dispatcher.get(AREAS).get_json()["items"]
    assert shape(tree) == {"S1": {"C1": {"G1": {}, "G2": {}}, "C2": {"G3": {}}}}


def test_new_areas_appear_in_the_subtree_of_existing_users(admin, staff):
    r = admin.post(
        AREAS, json={"code": "G4", "name": "宝石第三网格", "level": "grid", "parent_code": "C1"}
    )
    assert r.status_code == 201
    assert shape(staff.get(AREAS).get_json()["items"]) == {"C1": {"G1": {}, "G2": {}, "G4": {}}}


def test_children_are_listed_by_code_past_ten_siblings(admin):
    """Paths are strings ("/1/10/" < "/1/2/"); siblings must still come in code order."""
    for i in reversed(range(3, 13)):
        r = admin.post(
            AREAS,
            json={"code": f"GX{i:02d}", "name": f"网格{i}", "level": "grid", "parent_code": "C2"},
        )
        assert r.status_code == 201
    tree = admin.get(AREAS).get_json()["items"]
    c2 = next(c for c in tree[0]["children"][0]["children"] if c["code"] == "C2")
    assert [c["code"] for c in c2["children"]] == ["G3"] + [f"GX{i:02d}" for i in range(3, 13)]


GRID_A = {"type": "Polygon", "coordinates": [[[120.150, 30.270], [120.155, 30.270],
                                               [120.155, 30.275], [120.150, 30.275]]]}  # fmt: skip


def test_admins_set_boundaries_and_each_role_gets_those_it_may_see(admin, worker_a, staff, tree):
    r = admin.patch(f"{AREAS}/G1", json={"boundary": {"type": "Feature", "geometry": GRID_A}})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["boundary"]["type"] == "Polygon" and len(body["boundary"]["coordinates"][0]) == 5
    square = {
        "type": "Polygon",
        "coordinates": [[[120.16, 30.27], [120.17, 30.27], [120.17, 30.28]]],
    }
    assert (
        admin.patch(f"{AREAS}/G3", json={"boundary": square, "name": "黄龙一格"}).status_code == 200
    )
    # A grid worker may not draw, and sees only their own grid's outline.
    assert worker_a.patch(f"{AREAS}/G1", json={"boundary": None}).status_code == 403
    mine = worker_a.get(f"{AREAS}/boundaries").get_json()
    assert mine["type"] == "FeatureCollection"
    assert [f["properties"]["code"] for f in mine["features"]] == ["G1"]
    assert worker_a.get(f"{AREAS}/G3").status_code == 404
    assert admin.get(f"{AREAS}/G3").get_json()["name"] == "黄龙一格"
    everything = admin.get(f"{AREAS}/boundaries").get_json()
    assert sorted(f["properties"]["code"] for f in everything["features"]) == ["G1", "G3"]
    # Clearing is allowed and audited like any change.
    assert admin.patch(f"{AREAS}/G3", json={"boundary": None}).get_json()["boundary"] is None
    log = admin.get("/api/v1/audit?action=area.update").get_json()["items"]
    assert len(log) == 3 and {e["object_id"] for e in log} == {"G1", "G3"}


def test_a_bad_boundary_is_refused_with_its_reason(admin, tree):
    swapped = {
        "type": "Polygon",
        "coordinates": [[[30.27, 120.15], [30.28, 120.16], [30.2, 120.1]]],
    }
    r = admin.patch(f"{AREAS}/G1", json={"boundary": swapped})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert "经度在前" in err["message"] and "boundary" in err["details"]["fields"]
    assert admin.get(f"{AREAS}/G1").get_json()["boundary"] is None
    assert admin.patch(f"{AREAS}/NOPE", json={"name": "x"}).status_code == 404

"""Households API: 户号 uniqueness, head and members, If-Match edits, deletes, lists and scope."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from tests.conftest import make_id_number

URL = "/api/v1/households"


@pytest.fixture
def make_household(worker_a):
    """Factory: register a household through the API as grid worker A (or a given user)."""

    def _make(user=None, **fields):
        user = user or worker_a
        body = {"area": user.area, **fields}
        r = user.post(URL, json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    return _make


def test_create_and_get_with_head_as_member(worker_a, make_person, make_household):
    head = make_person(name="王建国", id_number=make_id_number(date(1960, 3, 1), "男"))
    spouse = make_person(name="李秀英", id_number=make_id_number(date(1962, 7, 9), "女"))
    hh = make_household(
        household_number="330106-0001",
        household_type="家庭户",
        address="宝石一路 1 号 2 单元 301",
        head_person_id=head["id"],
    )
    assert hh["household_number"] == "330106-0001"
    assert hh["household_type"] == "家庭户"
    assert hh["head_person_id"] == head["id"]
    assert hh["area"] == worker_a.area
    assert hh["version"] == 1
    assert hh["created_by"] == worker_a.username
    assert [(m["id"], m["relationship_to_head"]) for m in hh["members"]] == [(head["id"], "本人")]

    # The head's own record now points at the household.
    got_head = worker_a.get(f"/api/v1/people/{head['id']}").get_json()
    assert got_head["household_id"] == hh["id"]
    assert got_head["relationship_to_head"] == "本人"

    # Other members join from the person side.
    p = worker_a.patch(
        f"/api/v1/people/{spouse['id']}",
        json={"household_id": hh["id"], "relationship_to_head": "配偶"},
        headers={"If-Match": str(spouse["version"])},
    )
    assert p.status_code == 200, p.get_json()

    r = worker_a.get(f"{URL}/{hh['id']}")
    assert r.status_code == 200
    assert r.headers["ETag"] == f'"{r.get_json()["version"]}"'
    members = r.get_json()["members"]
    # Oldest first.
    assert [(m["name"], m["relationship_to_head"]) for m in members] == [
        ("王建国", "本人"),
        ("李秀英", "配偶"),
    ]
    assert members[0]["birth_date"] == "1960-03-01" and members[0]["sex"] == "男"


def test_default_type_and_no_members(make_household):
    hh = make_household()
    assert hh["household_type"] == "家庭户"
    assert hh["household_number"] is None and hh["head_person_id"] is None
    assert hh["members"] == []


def test_household_type_must_be_known(worker_a, make_household):
    r = worker_a.post(URL, json={"area": worker_a.area, "household_type": "单身户"})
    assert r.status_code == 422
    assert "household_type" in r.get_json()["error"]["details"]["fields"]
    collective = make_household(household_type="集体户")
    assert collective["household_type"] == "集体户"
    r = worker_a.patch(
        f"{URL}/{collective['id']}", json={"household_type": "其他"}, headers={"If-Match": "1"}
    )
    assert r.status_code == 422
    assert worker_a.get(f"{URL}/{collective['id']}").get_json()["household_type"] == "集体户"


def test_area_is_required_and_must_be_a_grid_in_scope(worker_a, staff):
    r = worker_a.post(URL, json={"household_number": "1"})
    assert r.status_code == 422
    assert r.get_json()["error"]["details"]["fields"]["area"] == ["必填项"]
    r = worker_a.post(URL, json={"area": "G2"})
    assert r.status_code == 422 and "area" in r.get_json()["error"]["details"]["fields"]
    r = staff.post(URL, json={"area": "C1"})
    assert r.status_code == 422 and "area" in r.get_json()["error"]["details"]["fields"]


def test_duplicate_household_number_is_409_with_existing_id(worker_a, worker_b, make_household):
    first = make_household(household_number="HH-001")
    r = worker_b.post(URL, json={"area": worker_b.area, "household_number": " HH-001 "})
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "households.duplicate_number"
    assert err["details"]["existing_id"] == first["id"]
    assert err["message"] == "该户号已登记"

    second = make_household(household_number="HH-002")
    r = worker_a.patch(
        f"{URL}/{second['id']}", json={"household_number": "HH-001"}, headers={"If-Match": "1"}
    )
    assert r.status_code == 409
    assert r.get_json()["error"]["details"]["existing_id"] == first["id"]
    # Re-saving its own number is not a conflict.
    r = worker_a.patch(
        f"{URL}/{second['id']}", json={"household_number": "HH-002"}, headers={"If-Match": "1"}
    )
    assert r.status_code == 200
    bad = worker_a.post(URL, json={"area": worker_a.area, "household_number": "户号一"})
    assert bad.status_code == 422
    assert "household_number" in bad.get_json()["error"]["details"]["fields"]


def test_client_generated_id_is_kept(worker_a, make_household):
    hid = str(uuid.uuid4())
    hh = make_household(id=hid)
    assert hh["id"] == hid
    assert worker_a.get(f"{URL}/{hid}").status_code == 200
    again = worker_a.post(URL, json={"id": hid, "area": worker_a.area})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "registry.duplicate_id"
    assert again.get_json()["error"]["details"]["existing_id"] == hid
    bad = worker_a.post(URL, json={"id": "not-a-uuid", "area": worker_a.area})
    assert bad.status_code == 422 and "id" in bad.get_json()["error"]["details"]["fields"]


def test_patch_requires_matching_if_match(worker_a, make_household):
    hh = make_household(address="旧地址")
    url = f"{URL}/{hh['id']}"
    r = worker_a.patch(url, json={"address": "新地址"})
    assert r.status_code == 428
    assert r.get_json()["error"]["code"] == "precondition_required"
    r = worker_a.patch(url, json={"address": "新地址"}, headers={"If-Match": "5"})
    assert r.status_code == 412
    assert r.get_json()["error"]["code"] == "version_mismatch"
    assert r.get_json()["error"]["details"]["current_version"] == 1
    ok = worker_a.patch(url, json={"address": "新地址"}, headers={"If-Match": '"1"'})
    assert ok.status_code == 200
    assert ok.get_json()["address"] == "新地址"
    assert ok.get_json()["version"] == 2 and ok.headers["ETag"] == '"2"'
    stale = worker_a.patch(url, json={"address": "第三个"}, headers={"If-Match": "1"})
    assert stale.status_code == 412
    assert worker_a.get(url).get_json()["address"] == "新地址"


def test_change_head_keeps_one_self(worker_a, make_person, make_household):
    first = make_person(name="甲")
    second = make_person(name="乙")
    hh = make_household(head_person_id=first["id"])
    url = f"{URL}/{hh['id']}"
    r = worker_a.patch(url, json={"head_person_id": second["id"]}, headers={"If-Match": "1"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["head_person_id"] == second["id"]
    relations = {m["id"]: m["relationship_to_head"] for m in body["members"]}
    # The former head stays a member but is no longer "本人": only the head is.
    assert set(relations) == {first["id"], second["id"]}
    assert relations[second["id"]] == "本人"
    assert relations[first["id"]] != "本人"
    assert list(relations.values()).count("本人") == 1

    r = worker_a.patch(url, json={"head_person_id": None}, headers={"If-Match": "2"})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["head_person_id"] is None
    assert [m["relationship_to_head"] for m in r.get_json()["members"]] == [None, None]


def test_head_must_be_a_person_in_scope(worker_a, worker_b, make_person, make_household):
    person_a = make_person()
    r = worker_b.post(URL, json={"area": worker_b.area, "head_person_id": person_a["id"]})
    assert r.status_code == 422
    assert "head_person_id" in r.get_json()["error"]["details"]["fields"]
    # Nothing was half-created and the person was not moved.
    assert worker_b.get(URL).get_json()["items"] == []
    assert worker_a.get(f"/api/v1/people/{person_a['id']}").get_json()["household_id"] is None

    hh_b = worker_b.post(URL, json={"area": worker_b.area}).get_json()
    r = worker_b.patch(
        f"{URL}/{hh_b['id']}", json={"head_person_id": person_a["id"]}, headers={"If-Match": "1"}
    )
    assert r.status_code == 422
    r = worker_a.post(URL, json={"area": worker_a.area, "head_person_id": str(uuid.uuid4())})
    assert r.status_code == 422
    assert "head_person_id" in r.get_json()["error"]["details"]["fields"]


def test_head_already_in_another_household_is_rejected(worker_a, make_person, make_household):
    person = make_person()
    make_household(head_person_id=person["id"])
    r = worker_a.post(URL, json={"area": worker_a.area, "head_person_id": person["id"]})
    assert r.status_code == 422
    assert "head_person_id" in r.get_json()["error"]["details"]["fields"]


def test_other_grid_gets_404(worker_a, worker_b, staff, make_household):
    hh = make_household(household_number="A-1")
    url = f"{URL}/{hh['id']}"
    r = worker_b.get(url)
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "households.not_found"
    assert worker_b.patch(url, json={"address": "x"}, headers={"If-Match": "1"}).status_code == 404
    assert worker_b.get(URL).get_json()["items"] == []
    assert worker_b.get(f"{URL}?household_number=A-1").get_json()["items"] == []
    # The community's staff see every grid of the community.
    assert staff.get(url).status_code == 200
    assert worker_a.get(url).get_json()["address"] is None


def test_delete_rules(worker_a, staff, admin, make_person, make_household):
    head = make_person()
    full = make_household(head_person_id=head["id"])
    empty = make_household(household_number="E-1")
    assert worker_a.delete(f"{URL}/{empty['id']}").status_code == 403

    r = staff.delete(f"{URL}/{full['id']}")
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "households.not_empty"
    assert r.get_json()["error"]["details"]["members"] == 1
    assert staff.get(f"{URL}/{full['id']}").status_code == 200

    assert staff.delete(f"{URL}/{empty['id']}", headers={"If-Match": "9"}).status_code == 412
    assert staff.delete(f"{URL}/{empty['id']}").status_code == 204
    assert staff.get(f"{URL}/{empty['id']}").status_code == 404
    # The number is free again.
    make_household(household_number="E-1")
    entries = admin.get("/api/v1/audit?action=household.delete").get_json()["items"]
    assert [e["object_id"] for e in entries] == [empty["id"]]


def test_deleting_the_head_clears_head_person_id(worker_a, staff, make_person, make_household):
    head = make_person(name="户主")
    member = make_person(name="成员")
    hh = make_household(head_person_id=head["id"])
    worker_a.patch(
        f"/api/v1/people/{member['id']}",
        json={"household_id": hh["id"], "relationship_to_head": "子"},
        headers={"If-Match": "1"},
    )
    assert staff.delete(f"/api/v1/people/{head['id']}").status_code == 204
    got = worker_a.get(f"{URL}/{hh['id']}").get_json()
    assert got["head_person_id"] is None
    assert [m["id"] for m in got["members"]] == [member["id"]]
    # Once the last member is gone the household can be deleted.
    assert staff.delete(f"/api/v1/people/{member['id']}").status_code == 204
    assert staff.delete(f"{URL}/{hh['id']}").status_code == 204


def test_people_household_filter(worker_a, staff, make_person, make_household):
    head = make_person(name="赵一")
    other = make_person(name="赵二")
    hh = make_household(head_person_id=head["id"])
    make_household(head_person_id=other["id"])
    items = staff.get(f"/api/v1/people?household_id={hh['id']}").get_json()["items"]
    assert [p["id"] for p in items] == [head["id"]]
    assert items[0]["household_id"] == hh["id"]
    assert staff.get(f"/api/v1/people?household_id={uuid.uuid4()}").get_json()["items"] == []


def test_person_cannot_join_household_out_of_scope(worker_a, worker_b, make_person, make_household):
    hh_a = make_household()
    person_b = make_person(user=worker_b, name="外网格")
    r = worker_b.patch(
        f"/api/v1/people/{person_b['id']}",
        json={"household_id": hh_a["id"]},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 422
    assert "household_id" in r.get_json()["error"]["details"]["fields"]


def test_list_cursor_and_filters(worker_a, worker_b, staff, make_household):
    made = [make_household(household_number=f"N-{i}", address=f"宝石路{i}号") for i in range(5)]
    other = make_household(user=worker_b, household_number="N-B")
    q = staff.get(f"{URL}?limit=2").get_json()
    pages = [q["items"]]
    while q["next_cursor"]:
        q = staff.get(f"{URL}?limit=2&cursor={q['next_cursor']}").get_json()
        pages.append(q["items"])
    assert [len(p) for p in pages] == [2, 2, 2]
    seen = [h["id"] for page in pages for h in page]
    # Newest first, each exactly once.
    assert seen == [h["id"] for h in reversed([*made, other])]
    assert "members" not in pages[0][0]

    by_number = staff.get(f"{URL}?household_number=N-3").get_json()["items"]
    assert [h["id"] for h in by_number] == [made[3]["id"]]
    grid_b = staff.get(f"{URL}?area=G2").get_json()["items"]
    assert [h["id"] for h in grid_b] == [other["id"]]
    community = staff.get(f"{URL}?area=C1").get_json()["items"]
    assert len(community) == 6
    assert worker_a.get(f"{URL}?area=G2").get_json()["items"] == []
    mine = worker_a.get(URL).get_json()["items"]
    assert {h["id"] for h in mine} == {h["id"] for h in made}
    by_address = staff.get(f"{URL}?address=路2号").get_json()["items"]
    assert [h["id"] for h in by_address] == [made[2]["id"]]
    assert staff.get(f"{URL}?cursor=garbage!").status_code == 422
    assert staff.get(f"{URL}?limit=0").status_code == 422


def test_head_leaving_the_household_clears_head(worker_a, make_person, make_household):
    head = make_person(name="搬走的户主")
    hh = make_household(head_person_id=head["id"])
    other = make_household()
    version = worker_a.get(f"/api/v1/people/{head['id']}").get_json()["version"]
    r = worker_a.patch(
        f"/api/v1/people/{head['id']}",
        json={"household_id": other["id"], "relationship_to_head": "租客"},
        headers={"If-Match": str(version)},
    )
    assert r.status_code == 200, r.get_json()
    old = worker_a.get(f"{URL}/{hh['id']}").get_json()
    assert old["members"] == []
    # A household must not name as head someone who no longer belongs to it.
    assert old["head_person_id"] is None
    assert worker_a.get(f"{URL}/{other['id']}").get_json()["members"][0]["id"] == head["id"]


def test_members_from_other_grids_stay_hidden(
    worker_a, worker_b, staff, make_person, make_household
):
    hh = make_household(head_person_id=make_person(name="本网格户主")["id"])
    lodger = make_person(user=worker_b, name="外网格成员")
    # Community staff cover both grids and may put a grid-B resident into a grid-A household.
    r = staff.patch(
        f"/api/v1/people/{lodger['id']}",
        json={"household_id": hh["id"], "relationship_to_head": "其他"},
        headers={"If-Match": "1"},
    )
    assert r.status_code == 200, r.get_json()
    assert {m["name"] for m in staff.get(f"{URL}/{hh['id']}").get_json()["members"]} == {
        "本网格户主",
        "外网格成员",
    }
    # Grid worker A sees the household but not a resident of grid B.
    seen = worker_a.get(f"{URL}/{hh['id']}")
    assert [m["name"] for m in seen.get_json()["members"]] == ["本网格户主"]
    assert "外网格成员" not in seen.get_data(as_text=True)
    # Hidden members still keep the household from being deleted.
    r = staff.patch(
        f"/api/v1/people/{hh['head_person_id']}",
        json={"household_id": None},
        headers={"If-Match": "2"},
    )
    assert r.status_code == 200, r.get_json()
    assert worker_a.get(f"{URL}/{hh['id']}").get_json()["members"] == []
    assert staff.delete(f"{URL}/{hh['id']}").get_json()["error"]["code"] == "households.not_empty"

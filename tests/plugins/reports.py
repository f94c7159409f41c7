"""Report API fixtures: users for every role of the loop, photos, and reports in any state."""

from __future__ import annotations

import uuid

import pytest

from tests.server.resources.test_files import make_png, upload

URL = "/api/v1/reports"
# 宝石社区, around 30.2741 N 120.1551 E: ~1.1 m per 0.00001 degree of latitude.
HERE = {"lat": 30.27410, "lon": 120.15510}


def near(dlat_m: float = 0.0, dlon_m: float = 0.0) -> dict:
    return {"lat": HERE["lat"] + dlat_m / 111_195, "lon": HERE["lon"] + dlon_m / 96_100}


def photo(user, seed: int | None = None) -> str:
    r = upload(user, make_png(seed=seed if seed is not None else uuid.uuid4().int % 250))
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()["sha256"]


class Loop:
    """The people of one closed loop and the steps that move a report along it."""

    def __init__(self, make_user, tree):
        self.worker = make_user("grid_worker", tree["grid_a"])
        self.other_worker = make_user("grid_worker", tree["grid_c"])
        self.staff = make_user("community_staff", tree["community"])
        self.dispatcher = make_user("dispatcher", tree["street"])
        self.admin = make_user("admin", None)
        self.huanwei = make_user("department_staff", tree["district"], department="huanwei")
        self.chengguan = make_user("department_staff", tree["district"], department="chengguan")

    def report(self, user=None, **fields) -> dict:
        user = user or self.worker
        body = {"category": "event.city.garbage", "title": "垃圾堆放",
                "description": "3号楼门口垃圾堆了好几天没人清运", "location": near(),
                "photos": [photo(user)], **fields}  # fmt: skip
        r = user.post(URL, json=body)
        assert r.status_code == 201, r.get_json()
        return r.get_json()

    def act(self, user, report_id: str, action: str, **fields):
        return user.post(f"{URL}/{report_id}/transitions", json={"action": action, **fields})

    def step(self, user, report_id: str, action: str, **fields) -> dict:
        r = self.act(user, report_id, action, **fields)
        assert r.status_code == 200, (action, r.get_json())
        return r.get_json()

    def in_state(self, state: str) -> dict:
        """A fresh report brought to ``state`` through the API."""
        r = self.report()
        rid = r["id"]
        paths = {
            "reported": [],
            "accepted": [("dispatcher", "accept", {})],
            "rejected": [("dispatcher", "reject", {"comment": "不属于受理范围"})],
            "duplicate": [("dispatcher", "mark_duplicate",
                           {"duplicate_of": self.report(location=near(500, 500))["id"]})],
            "dispatched": [("dispatcher", "accept", {}),
                           ("dispatcher", "dispatch", {"department": "huanwei"})],
        }  # fmt: skip
        d = paths["dispatched"]
        paths["in_progress"] = [*d, ("huanwei", "start", {})]
        paths["resolved"] = [*paths["in_progress"], ("huanwei", "resolve", {"photos": "new"})]
        paths["verified"] = [*paths["resolved"], ("worker", "verify", {"photos": "new"})]
        paths["reopened"] = [*paths["resolved"], ("worker", "reopen", {"comment": "还有垃圾"})]
        paths["closed"] = [*paths["verified"], ("dispatcher", "close", {})]
        for who, action, fields in paths[state]:
            user = getattr(self, who)
            if fields.get("photos") == "new":
                fields = {**fields, "photos": [photo(user)]}
            r = self.step(user, rid, action, **fields)
        assert r["state"] == state
        return r


@pytest.fixture
def loop(make_user, tree, report_catalog):
    return Loop(make_user, tree)

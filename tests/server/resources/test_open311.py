"""Open311 GeoReport v2 against the spec's field names: services, definitions, requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from ledger.reports import taxonomy
from tests.plugins.reports import near, photo

BASE = "/open311/v2"
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"}  # fmt: skip
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code",
    "description", "agency_responsible", "service_notice", "requested_datetime",
    "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat", "long",
    "media_url",
}  # fmt: skip


@pytest.fixture
def make_key(app, tree, report_catalog):
    from ledger.reports.api_clients import create_client

    def _make(name="12345-hotline", area="D1", source="hotline_12345"):
        with app.extensions["wangge_sessionmaker"]() as session:
            _, key = create_client(session, name=name, area=area, source=source)
            session.commit()
        return key

    return _make


def _error(r, status):
    assert r.status_code == status, r.get_json()
    body = r.get_json()
    assert isinstance(body, list) and set(body[0]) >= {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return body[0]


def test_services_list_the_category_tree(client, report_catalog):
    r = client.get(f"{BASE}/services.json")
    assert r.status_code == 200
    services = r.get_json()
    assert len(services) == len(taxonomy.LEAVES)
    assert all(set(s) == SERVICE_FIELDS for s in services)
    garbage = next(s for s in services if s["service_code"] == "event.city.garbage")
    assert garbage["service_name"] == "暴露垃圾" and garbage["group"] == "市容环境"
    assert garbage["metadata"] is False and garbage["type"] == "realtime"
    assert "垃圾" in garbage["keywords"].split(",")
    definition = client.get(f"{BASE}/services/event.city.garbage.json").get_json()
    assert definition == {"service_code": "event.city.garbage", "attributes": []}
    _error(client.get(f"{BASE}/services/no.such.json"), 404)
    _error(client.get(f"{BASE}/services/event.city.json"), 404)  # a class is not a service


def test_a_hotline_files_and_follows_a_request_through_the_loop(client, make_key, loop):
    key = make_key()
    form = {"api_key": key, "service_code": "event.city.garbage", "lat": str(near()["lat"]),
            "long": str(near()["lon"]), "address_string": "宝石社区3号楼",
            "description": "市民来电：3号楼门口垃圾堆积多日无人清运", "first_name": "女士",
            "last_name": "王", "phone": "13900001234", "account_id": "12345-20261124-0007",
            "area": "G1"}  # fmt: skip
    r = client.post(f"{BASE}/requests.json", data=form)
    assert r.status_code == 200, r.get_json()
    [created] = r.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    rid = created["service_request_id"]

    # The dispatcher sees a hotline report with the caller masked.
    report = loop.dispatcher.get(f"/api/v1/reports/{rid}").get_json()
    assert report["source"] == "hotline_12345"
    assert report["external_id"] == "12345-20261124-0007"
    assert report["contact"] == {"name": "王女士", "phone": "139****1234"}
    assert report["area"] == "G1" and report["reporter"] is None

    def follow():
        r = client.get(f"{BASE}/requests/{rid}.json?api_key={key}")
        assert r.status_code == 200, r.get_json()
        [one] = r.get_json()
        assert set(one) >= REQUEST_FIELDS
        return one

    first = follow()
    assert first["status"] == "open" and first["service_code"] == "event.city.garbage"
    assert first["status_notes"] == "已受理，等待立案审核"
    assert first["requested_datetime"].endswith("+08:00")
    assert first["expected_datetime"] and abs(first["lat"] - near()["lat"]) < 1e-9
    assert first["description"].startswith("市民来电")
    loop.step(loop.dispatcher, rid, "accept")
    loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    dispatched = follow()
    assert dispatched["status_notes"] == "已派遣至环卫"
    assert dispatched["agency_responsible"] == "环卫"
    loop.step(loop.huanwei, rid, "start")
    loop.step(loop.huanwei, rid, "resolve", photos=[photo(loop.huanwei)])
    loop.step(loop.worker, rid, "verify", photos=[photo(loop.worker)])
    loop.step(loop.dispatcher, rid, "close")
    loop.step(loop.dispatcher, rid, "evaluate", satisfied=True)
    closed = follow()
    assert closed["status"] == "closed" and closed["expected_datetime"] is None
    assert closed["status_notes"] == "已结案，回访满意"


def test_requests_need_a_valid_key(client, make_key):
    form = {"service_code": "event.city.garbage", "lat": "30.27", "long": "120.15"}
    assert _error(client.post(f"{BASE}/requests.json", data=form), 403)["error_code"] == (
        "open311.bad_api_key")  # fmt: skip
    _error(client.post(f"{BASE}/requests.json", data={**form, "api_key": "wg311_nope"}), 403)
    _error(client.get(f"{BASE}/requests.json"), 403)
    key = make_key()
    bad = client.post(f"{BASE}/requests.json", data={**form, "api_key": key,
                                                      "service_code": "event.city"})  # fmt: skip
    assert _error(bad, 400)["details"]["fields"]
    nowhere = {"api_key": key, "service_code": "event.city.garbage"}
    _error(client.post(f"{BASE}/requests.json", data=nowhere), 400)
    _error(client.post(f"{BASE}/requests.json", data={**form, "api_key": key, "lat": "x"}), 400)
    # A JSON body works as well as a form.
    body = {**form, "api_key": key, "lat": 30.27, "long": 120.15, "description": "路边垃圾"}
    r = client.post(f"{BASE}/requests.json", json=body)
    assert r.status_code == 200, r.get_json()
    # Without a grid the request waits at the key's own area for a district dispatcher.
    assert r.get_json()[0]["service_request_id"]


def test_request_queries_filter_by_the_spec_parameters(client, make_key, loop):
    key = make_key()
    garbage = loop.report()
    lamp = loop.report(category="part.public.lamp", title="路灯不亮", location=near(500, 0))
    old = loop.report(location=near(900, 0),
                      reported_at=(datetime.now(UTC) - timedelta(days=5)).isoformat())  # fmt: skip
    loop.step(loop.dispatcher, lamp["id"], "reject", comment="已有施工计划")

    def ids(query=""):
        r = client.get(f"{BASE}/requests.json?api_key={key}{query}")
        assert r.status_code == 200, r.get_json()
        return [x["service_request_id"] for x in r.get_json()]

    assert set(ids()) == {garbage["id"], lamp["id"], old["id"]}
    assert set(ids("&status=open")) == {garbage["id"], old["id"]}
    assert ids("&status=closed") == [lamp["id"]]
    assert ids("&service_code=part.public.lamp") == [lamp["id"]]
    since = quote((datetime.now(UTC) - timedelta(days=1)).isoformat())
    assert set(ids(f"&start_date={since}")) == {garbage["id"], lamp["id"]}
    assert ids(f"&end_date={since}") == [old["id"]]
    assert set(ids(f"&service_request_id={garbage['id']},{old['id']}")) == {
        garbage["id"],
        old["id"],
    }
    _error(client.get(f"{BASE}/requests.json?api_key={key}&status=pending"), 400)
    rejected = client.get(f"{BASE}/requests/{lamp['id']}.json?api_key={key}").get_json()[0]
    assert rejected["status_notes"] == "不予立案：已有施工计划"

    # A key for another community sees none of this grid's requests.
    other = make_key(name="c2-app", area="C2", source="open311")
    assert client.get(f"{BASE}/requests.json?api_key={other}").get_json() == []
    _error(client.get(f"{BASE}/requests/{garbage['id']}.json?api_key={other}"), 404)

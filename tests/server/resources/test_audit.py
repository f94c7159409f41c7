"""Reading the audit log: admins only, filters, and keyset (cursor) pagination."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import pytest

AUDIT = "/api/v1/audit"


@pytest.fixture
def entries(app, admin):
    """Twelve ``test.event`` entries on two objects, inserted through the domain API."""
    from ledger.audit.operations import Actor, record

    session = app.extensions["wangge_sessionmaker"]()
    actor = Actor(admin.id, admin.username, "admin", "10.0.0.1")
    ids = []
    for i in range(12):
        entry = record(
            session,
            actor,
            "test.event",
            object_type="thing",
            object_id=f"obj-{i % 2}",
            details={"n": i},
        )
        ids.append(entry.id)
    session.commit()
    session.close()
    return ids


def all_pages(user, query: str, limit: int) -> tuple[list[dict], int]:
    r = user.get(f"{AUDIT}?{query}&limit={limit}")
    assert r.status_code == 200, r.get_json()
    page = r.get_json()
    items, pages = list(page["items"]), 1
    while page["next_cursor"]:
        assert len(page["items"]) == limit
        r = user.get(f"{AUDIT}?{query}&limit={limit}&cursor={page['next_cursor']}")
        assert r.status_code == 200
        page = r.get_json()
        items += page["items"]
        pages += 1
    return items, pages


@pytest.mark.parametrize("role", ["grid_worker", "community_staff", "dispatcher"])
def test_only_admins_read_the_audit_log(make_user, tree, role):
    area = {"grid_worker": "G1", "community_staff": "C1", "dispatcher": "S1"}[role]
    user = make_user(role, area)
    r = user.get(AUDIT)
    assert r.status_code == 403
    err = r.get_json()["error"]
    assert err["code"] == "auth.forbidden" and err["details"] == {"permission": "audit.read"}


def test_entries_have_all_fields_and_offset_times(admin, entries):
    items = admin.get(f"{AUDIT}?action=test.event&limit=1").get_json()["items"]
    assert len(items) == 1
    entry = items[0]
    assert entry["id"] == entries[-1]
    assert entry["actor"] == admin.username and entry["actor_id"] == admin.id
    assert entry["role"] == "admin" and entry["ip"] == "10.0.0.1"
    assert entry["object_type"] == "thing" and entry["object_id"] == "obj-1"
    assert entry["details"] == {"n": 11}
    at = datetime.fromisoformat(entry["at"])
    assert at.utcoffset() == timedelta(0)
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=5)


def test_filter_by_action(admin, entries):
    items = admin.get(f"{AUDIT}?action=test.event&limit=500").get_json()["items"]
    assert [e["id"] for e in items] == list(reversed(entries))
    logins = admin.get(f"{AUDIT}?action=auth.login").get_json()["items"]
    assert [e["actor"] for e in logins] == [admin.username]
    assert admin.get(f"{AUDIT}?action=no.such.action").get_json()["items"] == []


def test_filter_by_object_and_actor(admin, entries):
    items = admin.get(f"{AUDIT}?object_type=thing&object_id=obj-0&limit=500").get_json()["items"]
    assert [e["details"]["n"] for e in items] == [10, 8, 6, 4, 2, 0]
    mine = admin.get(f"{AUDIT}?actor={admin.username}&limit=500").get_json()["items"]
    assert {e["action"] for e in mine} == {"test.event", "auth.login"}
    assert admin.get(f"{AUDIT}?actor=someone-else").get_json()["items"] == []


def test_cursor_pagination_walks_every_entry_once(admin, entries):
    items, pages = all_pages(admin, "action=test.event", limit=5)
    assert pages == 3
    assert [e["id"] for e in items] == list(reversed(entries))


def test_exact_multiple_of_limit_has_no_empty_last_page(admin, entries):
    items, pages = all_pages(admin, "action=test.event", limit=4)
    assert pages == 3 and len(items) == 12
    single = admin.get(f"{AUDIT}?action=test.event&limit=12").get_json()
    assert single["next_cursor"] is None and len(single["items"]) == 12


def test_pagination_is_stable_while_new_entries_arrive(app, admin, entries):
    from ledger.audit.operations import Actor, record

    first = admin.get(f"{AUDIT}?action=test.event&limit=5").get_json()
    session = app.extensions["wangge_sessionmaker"]()
    record(session, Actor(None, None, None), "test.event", details={"n": "late"})
    session.commit()
    session.close()
    second = admin.get(
        f"{AUDIT}?action=test.event&limit=5&cursor={first['next_cursor']}"
    ).get_json()
    ids = [e["id"] for e in first["items"] + second["items"]]
    assert ids == list(reversed(entries))[:10]


def test_since_and_until(admin, entries):
    now = datetime.now(UTC)
    since = quote((now - timedelta(hours=1)).isoformat())
    until = quote((now + timedelta(hours=1)).isoformat())
    assert len(admin.get(f"{AUDIT}?action=test.event&since={since}").get_json()["items"]) == 12
    assert len(admin.get(f"{AUDIT}?action=test.event&until={until}").get_json()["items"]) == 12
    future = quote((now + timedelta(hours=1)).isoformat())
    assert admin.get(f"{AUDIT}?action=test.event&since={future}").get_json()["items"] == []
    # Beijing time is accepted and compared correctly.
    beijing = (now - timedelta(hours=1)).astimezone(timezone(timedelta(hours=8)))
    r = admin.get(f"{AUDIT}?action=test.event&since={quote(beijing.isoformat())}")
    assert len(r.get_json()["items"]) == 12


def test_naive_time_filter_is_422_in_chinese(admin):
    r = admin.get(f"{AUDIT}?since=2024-01-01T00:00:00")
    assert r.status_code == 422
    fields = r.get_json()["error"]["details"]["fields"]
    assert "since" in fields
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(fields["since"]))


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=501", "limit=abc", "cursor=garbage", "cursor=%C2%B9", "cursor=" + "9" * 30],
)
def test_bad_paging_is_422(admin, entries, query):
    r = admin.get(f"{AUDIT}?{query}")
    assert r.status_code == 422, r.get_json()
    field = query.split("=")[0]
    messages = r.get_json()["error"]["details"]["fields"][field]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(messages))


def test_json_times_always_carry_an_offset(app):
    naive = datetime(2024, 3, 5, 8, 0, 0)
    beijing = datetime(2024, 3, 5, 8, 0, 0, tzinfo=timezone(timedelta(hours=8)))
    with app.app_context():
        out = app.json.loads(app.json.dumps({"naive": naive, "beijing": beijing}))
    assert out == {"naive": "2024-03-05T08:00:00+00:00", "beijing": "2024-03-05T08:00:00+08:00"}

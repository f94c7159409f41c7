"""The process-wide suggester retrains from closed cases, in the background."""

from __future__ import annotations

import time

from ledger.reports.suggestions import SuggesterCache
from server.db import app_session
from tests.plugins.reports import near, photo

TEXT = "共享单车横七竖八倒在人行道上"


def _close(loop, rid: str, category: str) -> None:
    loop.step(loop.dispatcher, rid, "accept", category=category)
    loop.step(loop.dispatcher, rid, "dispatch", department="huanwei")
    loop.step(loop.huanwei, rid, "start")
    loop.step(loop.huanwei, rid, "resolve", photos=[photo(loop.huanwei)])
    loop.step(loop.worker, rid, "verify", photos=[photo(loop.worker)])
    loop.step(loop.dispatcher, rid, "close")


def test_closed_cases_retrain_the_suggester(app, loop):
    cache = SuggesterCache(lambda: app_session(app, write=False), check_seconds=0)
    with app_session(app, write=False) as session:
        before = cache.get(session)
    assert before.trained_on == 0
    p_before = before.probabilities(TEXT).get("event.street.parking", 0.0)

    # Workers filed these as garbage; the dispatcher confirmed them as parking.
    for i in range(3):
        report = loop.report(title=TEXT, description=f"第{i + 1}次发现{TEXT}",
                             location=near(i * 100, 0))  # fmt: skip
        _close(loop, report["id"], "event.street.parking")
    # Open cases teach nothing: only the dispatcher's closed decisions do.
    loop.report(title="路灯不亮", category="part.public.lamp", location=near(0, 500))

    with app_session(app, write=False) as session:
        served = cache.get(session)  # news found: the rebuild runs in the background
    assert served is before
    deadline = time.monotonic() + 10
    while cache.trained_on < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cache.trained_on == 3
    with app_session(app, write=False) as session:
        after = cache.get(session)
    assert after is not before
    assert after.probabilities(TEXT)["event.street.parking"] > p_before


def test_edited_keywords_reach_the_suggester(app, loop):
    cache = SuggesterCache(check_seconds=0)
    with app_session(app, write=False) as session:
        assert cache.get(session).suggest("狗屎") == []  # no category knows the word yet
    r = loop.admin.patch("/api/v1/report-categories/event.city.garbage",
                         json={"keywords": ["狗屎", "垃圾"]})  # fmt: skip
    assert r.status_code == 200
    with app_session(app, write=False) as session:
        # Without a session factory the rebuild happens in the caller's session, at once.
        cache.get(session)
        assert cache.get(session).suggest("狗屎", k=1)[0][0] == "event.city.garbage"

"""POST /api/v1/reports/draft: typed text and real dictation become a draft report."""

from __future__ import annotations

import io

import pytest

from speech.text import cer
from tests.plugins.reports import URL, near
from tests.speech.media import SPEECH_DATA

DRAFT = f"{URL}/draft"
CLIP = SPEECH_DATA / "clips" / "funasr_asr_example.wav"


@pytest.fixture(autouse=True)
def _fresh_place_names():
    # Area ids are reused after each test's wipe; cached names must not outlive their rows.
    from ledger.registry.placenames import forget_cached

    forget_cached()
    yield
    forget_cached()


def test_a_dictated_fire_becomes_an_urgent_draft(loop):
    text = "喂你好宝石社区3号楼2单元楼道里着火了冒了好多烟麻烦赶紧派人来"
    r = loop.worker.post(DRAFT, json={"text": text})
    assert r.status_code == 200, r.get_json()
    d = r.get_json()
    assert d["text"] == text
    assert d["title"] and "你好" not in d["title"] and len(d["title"]) <= 20
    assert len(d["categories"]) == 3
    top = d["categories"][0]
    assert set(top) == {"code", "name", "path", "score"}
    assert top["code"] == "event.emergency.fire" and top["path"] == "突发事件/火灾"
    assert 0 < d["categories"][2]["score"] <= d["categories"][1]["score"] <= top["score"] <= 1
    assert d["urgency"] == "high" and d["urgency_cues"]
    place = d["places"][0]
    assert place["text"].startswith("宝石社区3号楼") and place["matched"] == "宝石社区"
    assert d["possible_duplicates"] == [] and d["area"] == "G1"
    assert r.headers["Cache-Control"] == "no-store"


def test_a_draft_offers_open_reports_nearby_as_duplicates(loop):
    existing = loop.report(location=near())
    r = loop.worker.post(DRAFT, json={"text": "3号楼门口的垃圾堆了好几天了一直没人清运发臭了",
                                      **near(20, 0)})  # fmt: skip
    d = r.get_json()
    assert d["categories"][0]["code"] == "event.city.garbage"
    assert d["urgency"] == "normal"
    assert [x["id"] for x in d["possible_duplicates"]] == [existing["id"]]
    assert 15 < d["possible_duplicates"][0]["distance_m"] < 25
    far = loop.worker.post(DRAFT, json={"text": "垃圾堆了好几天", **near(200, 0)}).get_json()
    assert far["possible_duplicates"] == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("小区门口有人摆摊卖水果占了半条人行道", "event.street.vending"),
        ("解放路和中山路路口的红绿灯不亮了车都乱开", "part.traffic.sign"),
        ("楼上邻居天天半夜剁肉吵得睡不着去说了还吵架", "social.dispute.neighbor"),
        ("5栋楼道里堆满了纸箱和旧家具消防通道都堵死了", "social.hazard.fire_exit"),
    ],
)
def test_typical_reports_get_the_right_category_in_the_top_three(loop, text, code):
    d = loop.worker.post(DRAFT, json={"text": text}).get_json()
    assert code in [c["code"] for c in d["categories"]]


def test_a_recording_is_transcribed_kept_and_drafted(loop):
    data = CLIP.read_bytes()
    r = loop.worker.post(DRAFT, data={"audio": (io.BytesIO(data), "note.wav", "audio/wav"),
                                      "lat": str(near()["lat"]), "lon": str(near()["lon"])},
                         content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 200, r.get_json()
    d = r.get_json()
    assert cer("欢迎大家来体验达摩院推出的语音识别模型", d["text"]) <= 0.15
    assert d["transcript"]["engine"] and d["transcript"]["duration_s"] > 5
    assert d["title"] and d["audio_file"]
    assert {"total", "draft"} <= set(d["timing_ms"])
    assert loop.worker.get(f"/api/v1/files/{d['audio_file']}").data == data
    # The recording can go straight onto the confirmed report.
    # The recording and what was heard go onto the confirmed report with the edited text.
    confirmed = {"category": "event.city.garbage", "title": d["title"],
                 "description": "体验活动现场垃圾较多", "transcript": d["text"],
                 "audio_file": d["audio_file"]}  # fmt: skip
    made = loop.worker.post(URL, json=confirmed)
    assert made.status_code == 201 and made.get_json()["audio_file"] == d["audio_file"]
    assert made.get_json()["transcript"] == d["text"]


def test_bad_drafts_are_refused(loop):
    assert loop.worker.post(DRAFT, json={"text": "   "}).status_code == 422
    assert loop.worker.post(DRAFT, json={}).status_code == 422
    assert loop.worker.post(DRAFT, json={"text": "垃圾", "area": "G3"}).status_code == 422
    r = loop.worker.post(DRAFT, data=b"{", content_type="application/json")
    assert r.status_code == 400
    r = loop.worker.post(DRAFT, data={"audio": (io.BytesIO(b"not audio"), "a.wav", "audio/wav")},
                         content_type="multipart/form-data")  # fmt: skip
    assert r.status_code in (415, 422)
    assert loop.huanwei.post(DRAFT, json={"text": "垃圾"}).status_code == 403


def test_oversized_corrupt_and_anonymous_requests_get_clear_errors(loop, app, client):
    limit = app.extensions["wangge_settings"].max_upload_bytes
    big = io.BytesIO(b"RIFF" + b"\0" * (limit + 2_000_000))
    r = loop.worker.post(DRAFT, data={"audio": (big, "long.wav", "audio/wav")},
                         content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 413 and r.get_json()["error"]["code"]
    r = loop.worker.post(URL, data=b'{"category": "event.city.garbage", "title": ',
                         content_type="application/json")  # fmt: skip
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_json"
    r = loop.worker.post(URL, data="category=x", content_type="text/plain")
    assert r.status_code == 415
    anonymous = [("get", URL), ("post", URL), ("post", DRAFT), ("get", f"{URL}/stats"),
                 ("post", f"{URL}/00000000-0000-0000-0000-000000000000/transitions"),
                 ("get", "/api/v1/departments"), ("get", "/api/v1/routing-rules")]  # fmt: skip
    for method, url in anonymous:
        r = getattr(client, method)(url, json={} if method == "post" else None)
        assert r.status_code == 401, (method, url)
        assert r.get_json()["error"]["code"] == "auth.required"

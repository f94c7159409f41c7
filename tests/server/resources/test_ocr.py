"""Document OCR through the API, with the real rapidocr engine on committed fixture photos."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ocr"


def fixture(name: str) -> tuple[bytes, dict]:
    truth = json.loads((FIXTURES / f"{name}.json").read_text())
    return (FIXTURES / f"{name}.jpg").read_bytes(), truth


def upload(user, url, data: bytes, filename="photo.jpg", mimetype="image/jpeg", **form):
    payload = {"image": (io.BytesIO(data), filename, mimetype), **form}
    return user.post(url, data=payload, content_type="multipart/form-data")


def png_bytes(width: int, height: int) -> bytes:
    im = Image.new("RGB", (width, height), "white")
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_id_card_front_fills_a_checked_draft(worker_a, staff):
    data, truth = fixture("0000_id_card_front")
    r = upload(worker_a, "/api/v1/ocr/id-card", data, side="front")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["document_type"] == "id_card_front"
    assert body["engine"] == "rapidocr"
    for key in ("name", "sex", "birth_date", "id_number"):
        assert body["fields"][key] == truth["fields"][key], key
    assert body["checks"]["id_number_checksum"] is True
    assert body["checks"]["birth_date_matches_id"] is True
    assert body["checks"]["sex_matches_id"] is True
    assert body["checks"]["region"]
    assert set(body["field_confidence"]) >= {"name", "id_number"}
    assert not {w["code"] for w in body["warnings"]} & {"checksum_failed", "not_a_document"}
    draft = body["person_draft"]
    assert draft["id_number"] == truth["fields"]["id_number"]
    assert draft["area"] == worker_a.area
    assert body["existing_person_id"] is None
    assert r.headers["Cache-Control"] == "no-store"
    assert body["timing_ms"]["total"] > 0

    # The crop and the portrait are stored files the scanning worker can fetch.
    for key in ("document_file", "portrait_file", "original_file"):
        got = worker_a.get(f"/api/v1/files/{body[key]}")
        assert got.status_code == 200 and got.mimetype.startswith("image/")

    # Saving the draft links the scan: the photos become visible to the community's staff.
    assert staff.get(f"/api/v1/files/{body['document_file']}").status_code == 404
    created = worker_a.post("/api/v1/people", json={**draft, "scan_id": body["scan_id"]})
    assert created.status_code == 201, created.get_json()
    assert staff.get(f"/api/v1/files/{body['document_file']}").status_code == 200

    # A second scan of the same card points at the registered resident.
    again = upload(worker_a, "/api/v1/ocr/id-card", data).get_json()
    assert again["existing_person_id"] == created.get_json()["id"]


def test_wrong_side_is_flagged(worker_a):
    data, _truth = fixture("0000_id_card_back")
    body = upload(worker_a, "/api/v1/ocr/id-card", data, side="front").get_json()
    assert body["document_type"] == "id_card_back"
    assert "wrong_side" in {w["code"] for w in body["warnings"]}
    assert all(w["message"] for w in body["warnings"])


def test_id_card_back_fields(worker_a):
    data, truth = fixture("0000_id_card_back")
    body = upload(worker_a, "/api/v1/ocr/id-card", data).get_json()
    assert body["document_type"] == "id_card_back"
    for key in ("valid_from", "long_term"):
        assert body["fields"][key] == truth["fields"][key], key


def test_household_register_member_page(worker_a):
    data, truth = fixture("0000_household_register_member")
    r = upload(worker_a, "/api/v1/ocr/household-register", data)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["document_type"] == "household_register_member"
    assert body["fields"]["name"] == truth["fields"]["name"]
    assert body["fields"]["id_number"] == truth["fields"]["id_number"]
    assert body["person_draft"]["name"] == truth["fields"]["name"]


def test_text_endpoint_returns_lines_with_boxes(worker_a):
    data, truth = fixture("0000_id_card_front")
    r = upload(worker_a, "/api/v1/ocr/text", data)
    assert r.status_code == 200, r.get_json()
    lines = r.get_json()["lines"]
    text = "".join(line["text"] for line in lines)
    assert truth["fields"]["id_number"] in text
    first = lines[0]
    assert len(first["box"]) == 4 and 0 < first["confidence"] <= 1


@pytest.mark.parametrize(
    ("data", "filename", "mimetype", "status", "code"),
    [
        (b"just some text, not a photo\n" * 20, "photo.jpg", "image/jpeg", 415, None),
        (
            b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
            "scan.pdf",
            "application/pdf",
            415,
            None,
        ),
        (b"", "empty.jpg", "image/jpeg", 422, None),
    ],
)
def test_bad_uploads_get_clear_errors(worker_a, data, filename, mimetype, status, code):
    r = upload(worker_a, "/api/v1/ocr/id-card", data, filename=filename, mimetype=mimetype)
    assert r.status_code == status
    err = r.get_json()["error"]
    assert err["message"] and not err["message"].isascii()
    if code:
        assert err["code"] == code


def test_corrupt_and_hostile_images(worker_a, app):
    data, _ = fixture("0000_id_card_front")
    truncated = upload(worker_a, "/api/v1/ocr/id-card", data[: len(data) // 2])
    assert truncated.status_code == 422
    assert truncated.get_json()["error"]["code"] == "ocr.truncated_image"

    tiny = upload(worker_a, "/api/v1/ocr/id-card", png_bytes(1, 1), "a.png", "image/png")
    assert tiny.status_code == 422
    assert tiny.get_json()["error"]["code"] == "ocr.image_too_small"

    # A 30000×30000 PNG header over a tiny body: rejected before any pixel is decoded.
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
    )
    bomb += _chunk(b"IEND", b"")
    r = upload(worker_a, "/api/v1/ocr/id-card", bomb, "bomb.png", "image/png")
    assert r.status_code == 422
    assert r.get_json()["error"]["code"] == "ocr.image_too_large"

    frames = [Image.new("RGB", (64, 64), c) for c in ("red", "blue")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    gif = upload(worker_a, "/api/v1/ocr/id-card", buf.getvalue(), "a.gif", "image/gif")
    assert gif.status_code == 415

    # Nothing from the failed uploads was kept.
    from ledger.registry.models import DocumentScan

    session = app.extensions["wangge_sessionmaker"]()
    assert session.query(DocumentScan).count() == 0
    session.close()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_roles_and_tokens(client, dispatcher):
    data, _ = fixture("0000_id_card_front")
    r = client.post(
        "/api/v1/ocr/id-card",
        data={"image": (io.BytesIO(data), "a.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 401
    assert upload(dispatcher, "/api/v1/ocr/id-card", data).status_code == 403


def test_bad_side_value(worker_a):
    data, _ = fixture("0000_id_card_front")
    r = upload(worker_a, "/api/v1/ocr/id-card", data, side="left")
    assert r.status_code == 422
    assert "side" in r.get_json()["error"]["details"]["fields"]

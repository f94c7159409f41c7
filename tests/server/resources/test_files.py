"""Files API: sniffed, deduplicated uploads streamed to disk and served only to those allowed."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import struct
import tracemalloc
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from ledger.areas.models import Area
from ledger.files import operations as file_ops
from ledger.files.models import FileUpload, StoredFile

URL = "/api/v1/files"


def make_png(width: int = 4, height: int = 3, seed: int = 0) -> bytes:
    """A real, decodable RGB PNG built with zlib and struct."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + bytes((x * 40 + seed) % 256 for x in range(width * 3)) for _ in range(height)
    )
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def make_jpeg(comment: bytes = b"") -> bytes:
    """A real baseline JPEG: one 8x8 mid-grey block, with the smallest possible tables."""

    def segment(marker: int, payload: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    jfif = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    com = segment(0xFE, comment) if comment else b""
    dqt = segment(0xDB, b"\x00" + b"\x01" * 64)
    sof = segment(0xC0, struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00")
    # One code ("0") per table: DC category 0 and AC end-of-block.
    counts = b"\x01" + b"\x00" * 15
    dht = segment(0xC4, b"\x00" + counts + b"\x00" + b"\x10" + counts + b"\x00")
    sos = segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
    # Bits "0" (DC diff 0) and "0" (EOB), padded with ones.
    scan = b"\x3f"
    return b"\xff\xd8" + jfif + com + dqt + sof + dht + sos + scan + b"\xff\xd9"


def upload(user, data: bytes, filename: str = "photo.png", content_type: str | None = None):
    part = (io.BytesIO(data), filename) + ((content_type,) if content_type else ())
    return user.post(URL, data={"file": part}, content_type="multipart/form-data")


def blob_files(data_dir: Path) -> list[Path]:
    root = Path(data_dir) / "blobs"
    tmp = root / "tmp"
    return sorted(p for p in root.rglob("*") if p.is_file() and tmp not in p.parents)


@pytest.fixture
def fresh_app(base_config, app, tmp_path):
    """Factory: another app on the same database with its own data directory."""
    from server import create_app

    made = []

    def _make(**overrides):
        data_dir = tmp_path / f"data-{len(made)}"
        new = create_app({**base_config, "DATA_DIR": str(data_dir), **overrides})
        made.append(new)
        return new, data_dir

    yield _make
    for other in made:
        other.extensions["wangge_engine"].dispose()


def on(user, other_app):
    """The same logged-in user talking to another app instance."""
    return dataclasses.replace(user, client=other_app.test_client())


def grid_id(app, code: str) -> int:
    session = app.extensions["wangge_sessionmaker"]()
    try:
        return session.scalar(select(Area.id).where(Area.code == code))
    finally:
        session.close()


def test_upload_returns_hash_size_and_sniffed_type(worker_a):
    png = make_png(seed=1)
    r = upload(worker_a, png, "门头.png", "image/png")
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {
        "sha256": hashlib.sha256(png).hexdigest(),
        "size": len(png),
        "content_type": "image/png",
    }


def test_jpeg_type_comes_from_bytes_not_declaration(worker_a):
    jpeg = make_jpeg(b"jpeg-type")
    # Phones often send application/octet-stream and no useful name.
    r = upload(worker_a, jpeg, "blob", "application/octet-stream")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["content_type"] == "image/jpeg"
    assert r.get_json()["sha256"] == hashlib.sha256(jpeg).hexdigest()


def test_same_bytes_twice_store_one_blob(fresh_app, worker_a, worker_b):
    other, data_dir = fresh_app()
    a, b = on(worker_a, other), on(worker_b, other)
    png = make_png(seed=2)
    sha = hashlib.sha256(png).hexdigest()
    first = upload(a, png, "a.png")
    second = upload(b, png, "b.png")
    third = upload(a, png, "again.png")
    assert first.status_code == second.status_code == third.status_code == 201
    assert first.get_json() == second.get_json() == third.get_json()
    blobs = blob_files(data_dir)
    assert len(blobs) == 1
    assert blobs[0].name == sha and blobs[0].read_bytes() == png
    assert list((data_dir / "tmp").iterdir()) == []
    session = other.extensions["wangge_sessionmaker"]()
    try:
        assert session.scalar(select(StoredFile).where(StoredFile.sha256 == sha)).size == len(png)
        uploaders = set(session.scalars(select(FileUpload.user_id).where(FileUpload.sha256 == sha)))
        assert uploaders == {worker_a.id, worker_b.id}
    finally:
        session.close()
    # Both uploaders may read it back; the blob bytes are intact.
    assert b.get(f"{URL}/{sha}").data == png


def test_uploader_downloads_with_type_and_bytes(worker_a):
    jpeg = make_jpeg(b"download")
    sha = upload(worker_a, jpeg, "x.jpg", "image/jpeg").get_json()["sha256"]
    r = worker_a.get(f"{URL}/{sha}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.data == jpeg
    assert int(r.headers["Content-Length"]) == len(jpeg)
    assert r.headers["ETag"] == f'"{sha}"'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    cached = worker_a.get(f"{URL}/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304 and cached.data == b""


def test_other_worker_gets_404_admin_gets_200(worker_a, worker_b, admin):
    png = make_png(seed=3)
    sha = upload(worker_a, png).get_json()["sha256"]
    denied = worker_b.get(f"{URL}/{sha}")
    assert denied.status_code == 404
    assert denied.get_json()["error"]["code"] == "files.not_found"
    assert png not in denied.data
    # Indistinguishable from a hash nobody uploaded.
    missing = worker_b.get(f"{URL}/{'0' * 64}")
    assert missing.status_code == 404
    for key in ("code", "message"):
        assert missing.get_json()["error"][key] == denied.get_json()["error"][key]
    ok = admin.get(f"{URL}/{sha}")
    assert ok.status_code == 200 and ok.data == png


def test_malformed_hash_is_404(worker_a):
    for bad in ("abc", "A" * 64, "g" * 64, "../" + "a" * 61):
        r = worker_a.get(f"{URL}/{bad}")
        assert r.status_code == 404, bad


def test_reference_grants_the_area_readers(app, worker_a, staff, make_user, tree):
    png = make_png(seed=4)
    sha = upload(worker_a, png).get_json()["sha256"]
    worker_c = make_user("grid_worker", tree["grid_c"])
    other_staff = make_user("community_staff", tree["other_community"])
    url = f"{URL}/{sha}"
    # Before any record uses the file only its uploader (and admins) may read it.
    assert staff.get(url).status_code == 404

    grid_a = grid_id(app, tree["grid_a"])
    session = app.extensions["wangge_sessionmaker"]()
    file_ops.add_ref(session, sha, object_type="person", object_id="p-1", area_id=grid_a)
    # Adding the same reference again is harmless.
    file_ops.add_ref(session, sha, object_type="person", object_id="p-1", area_id=grid_a)
    session.commit()
    session.close()

    r = staff.get(url)
    assert r.status_code == 200 and r.data == png
    assert worker_c.get(url).status_code == 404
    assert other_staff.get(url).status_code == 404


def test_text_named_jpg_is_415_in_chinese(worker_a):
    r = upload(worker_a, "这不是照片，是一段文字。\n".encode() * 20, "photo.jpg", "image/jpeg")
    assert r.status_code == 415
    err = r.get_json()["error"]
    assert err["code"] == "files.type_mismatch"
    assert err["message"] == "文件内容与文件名/类型不符，请重新选择文件"
    assert err["details"] == {"detected": "text/plain", "declared": "image"}


def test_png_declared_as_mp3_is_415(worker_a):
    png = make_png(seed=5)
    for filename, declared in (("recording", "audio/mpeg"), ("voice.mp3", "audio/mpeg")):
        r = upload(worker_a, png, filename, declared)
        assert r.status_code == 415, filename
        err = r.get_json()["error"]
        assert err["code"] == "files.type_mismatch"
        assert err["details"] == {"detected": "image/png", "declared": "audio"}


def test_unknown_binary_is_415(worker_a, app, base_config):
    data = bytes([0x00, 0x01, 0x02, 0xFE]) * 500
    r = upload(worker_a, data, "data.bin", "application/octet-stream")
    assert r.status_code == 415
    err = r.get_json()["error"]
    assert err["code"] == "files.unsupported_type"
    assert any("\u4e00" <= c <= "\u9fff" for c in err["message"])
    # Rejected uploads leave nothing behind.
    sha = hashlib.sha256(data).hexdigest()
    assert not (Path(base_config["DATA_DIR"]) / "blobs" / sha[:2] / sha[2:4] / sha).exists()
    assert worker_a.get(f"{URL}/{sha}").status_code == 404


def test_default_limit_rejects_30_mb(worker_a, tmp_path):
    path = tmp_path / "big.jpg"
    with open(path, "wb") as fh:
        fh.write(make_jpeg())
        fh.write(b"\x00" * (30 * 1024 * 1024))
    with open(path, "rb") as fh:
        r = worker_a.post(URL, data={"file": (fh, "big.jpg")}, content_type="multipart/form-data")
    assert r.status_code == 413
    err = r.get_json()["error"]
    assert err["code"] == "files.too_large"
    assert err["message"] == "文件太大（最大 20 MB），请压缩后重新上传"
    assert err["details"]["max_bytes"] == 20 * 1024 * 1024


def test_configured_limit_and_no_temp_file_left(fresh_app, worker_a):
    other, data_dir = fresh_app(MAX_UPLOAD_MB=1)
    a = on(worker_a, other)
    limit = 1024 * 1024
    jpeg = make_jpeg()
    r = upload(a, jpeg + os.urandom(2 * limit), "big.jpg")
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "files.too_large"
    assert r.get_json()["error"]["details"]["max_bytes"] == limit
    assert list((data_dir / "tmp").iterdir()) == []
    # One byte over: the body fits the multipart allowance, so the file is spooled and the
    # limit is enforced while streaming; the partial temp file must be removed.
    r = upload(a, jpeg + os.urandom(limit + 1 - len(jpeg)), "over.jpg")
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "files.too_large"
    assert list((data_dir / "tmp").iterdir()) == []
    assert blob_files(data_dir) == []
    # A file of exactly the advertised size is accepted.
    exact = jpeg + os.urandom(limit - len(jpeg))
    r = upload(a, exact, "exact.jpg")
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["size"] == limit
    assert list((data_dir / "tmp").iterdir()) == []
    assert [p.name for p in blob_files(data_dir)] == [hashlib.sha256(exact).hexdigest()]


def test_empty_file_is_422(fresh_app, worker_a):
    other, data_dir = fresh_app()
    r = upload(on(worker_a, other), b"", "empty.jpg", "image/jpeg")
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "validation_error"
    assert "file" in err["details"]["fields"]
    assert list((data_dir / "tmp").iterdir()) == []


def test_upload_streams_to_disk(worker_a, tmp_path):
    size = 15 * 1024 * 1024
    path = tmp_path / "streamed.jpg"
    hasher = hashlib.sha256()
    with open(path, "wb") as fh:
        head = make_jpeg()
        fh.write(head)
        hasher.update(head)
        block = os.urandom(1 << 20)
        for _ in range(15):
            fh.write(block)
            hasher.update(block)
    total = path.stat().st_size
    assert total > size
    # The file object is streamed by the test client into a spooled temp file, so the
    # request body never exists in memory as one bytes object: whatever peak we see
    # comes from the client plus the app's handling.
    tracemalloc.start()
    try:
        with open(path, "rb") as fh:
            r = worker_a.post(
                URL, data={"file": (fh, "streamed.jpg")}, content_type="multipart/form-data"
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["sha256"] == hasher.hexdigest()
    assert r.get_json()["size"] == total
    assert peak < size / 4, f"peak traced memory {peak} bytes for a {total}-byte upload"


def test_missing_file_field_is_422(worker_a):
    r = worker_a.post(URL, data={"other": "x"}, content_type="multipart/form-data")
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "validation_error"
    assert "file" in err["details"]["fields"]
    r = worker_a.post(URL, json={"file": "x"})
    assert r.status_code == 422


def test_no_token_is_401(client, worker_a):
    png = make_png(seed=6)
    r = client.post(
        URL, data={"file": (io.BytesIO(png), "a.png")}, content_type="multipart/form-data"
    )
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "auth.required"
    sha = upload(worker_a, png).get_json()["sha256"]
    r = client.get(f"{URL}/{sha}")
    assert r.status_code == 401
    assert png not in r.data

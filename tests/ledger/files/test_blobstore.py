"""Tests for the local and S3 blob stores and streaming upload ingest."""

from __future__ import annotations

import hashlib
import io
import threading
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from ledger.errors import LedgerError, TooLarge
from ledger.files.blobstore import (
    BlobNotFound,
    BlobStore,
    IngestResult,
    LocalBlobStore,
    S3BlobStore,
    content_disposition,
    ingest_stream,
    is_sha256,
    make_blobstore,
)

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40 + b"\xff\xd9"
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()
MISSING_SHA = "0" * 64


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    # Resolved lazily so local-only runs never start the moto server.
    endpoint = request.getfixturevalue("s3_server")
    bucket = request.getfixturevalue("s3_bucket")
    return S3BlobStore(bucket, endpoint_url=endpoint, region_name="us-east-1")


@pytest.fixture
def upload_dir(tmp_path: Path) -> Path:
    path = tmp_path / "uploads"
    path.mkdir()
    return path


def blob_count(store: BlobStore) -> int:
    if isinstance(store, LocalBlobStore):
        return sum(1 for p in store.root.rglob("*") if p.is_file() and p.parent != store.tmp_dir)
    assert isinstance(store, S3BlobStore)
    listing = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    return listing.get("KeyCount", 0)


def ingest(data: bytes, tmp_dir: Path, *, max_bytes: int = 1 << 30) -> IngestResult:
    return ingest_stream(io.BytesIO(data), tmp_dir, max_bytes=max_bytes)


class PatternStream(io.RawIOBase):
    """A large deterministic byte stream generated on the fly, recording read sizes."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.requested: list[int] = []
        self.expected = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        self.requested.append(size)
        if size is None or size < 0:
            size = self.total - self.sent
        size = min(size, self.total - self.sent)
        start = self.sent
        chunk = bytes((start + i) * 7 % 251 for i in range(min(size, 4096)))
        chunk = (chunk * (size // max(len(chunk), 1) + 1))[:size]
        self.sent += len(chunk)
        self.expected.update(chunk)
        return chunk


# --- both stores --------------------------------------------------------------------------


def test_put_file_dedupes_identical_content(store: BlobStore, upload_dir: Path) -> None:
    first = ingest(PHOTO, upload_dir)
    second = ingest(PHOTO, upload_dir)
    assert first.sha256 == second.sha256 == PHOTO_SHA

    assert store.put_file(first.path, first.sha256, "image/jpeg") is True
    assert store.put_file(second.path, second.sha256, "image/jpeg") is False

    assert blob_count(store) == 1
    # put_file moves: nothing is left for the caller, and discard() is still safe.
    assert not first.path.exists()
    assert not second.path.exists()
    first.discard()
    second.discard()


def test_open_round_trips(store: BlobStore, upload_dir: Path) -> None:
    result = ingest(PHOTO, upload_dir)
    store.put_file(result.path, result.sha256, "image/jpeg")
    with store.open(PHOTO_SHA) as fh:
        assert fh.read() == PHOTO


def test_exists_and_size(store: BlobStore) -> None:
    assert store.exists(PHOTO_SHA) is False
    assert store.put_bytes(PHOTO, "image/jpeg") == PHOTO_SHA
    assert store.exists(PHOTO_SHA) is True
    assert store.size(PHOTO_SHA) == len(PHOTO)


def test_put_bytes_is_idempotent(store: BlobStore) -> None:
    assert store.put_bytes(b"hello", "text/plain") == hashlib.sha256(b"hello").hexdigest()
    assert store.put_bytes(b"hello", "text/plain") == hashlib.sha256(b"hello").hexdigest()
    assert blob_count(store) == 1


@pytest.mark.parametrize("sha", [MISSING_SHA, "../../etc/passwd", "ABC", PHOTO_SHA.upper()])
def test_missing_blob_raises_not_found(store: BlobStore, sha: str) -> None:
    assert store.exists(sha) is False
    with pytest.raises(BlobNotFound) as info:
        store.open(sha)
    err = info.value
    assert isinstance(err, LedgerError)
    assert (err.kind, err.code, err.message) == ("not_found", "files.not_found", "文件不存在")
    with pytest.raises(BlobNotFound):
        store.size(sha)


def test_delete(store: BlobStore) -> None:
    store.put_bytes(PHOTO, "image/jpeg")
    store.delete(PHOTO_SHA)
    assert store.exists(PHOTO_SHA) is False
    store.delete(PHOTO_SHA)  # already gone: no error
    assert blob_count(store) == 0


def test_check_passes(store: BlobStore) -> None:
    store.check()


def test_large_upload_streams_through(store: BlobStore, upload_dir: Path) -> None:
    total = 25 * 1024 * 1024
    stream = PatternStream(total)
    result = ingest_stream(stream, upload_dir, max_bytes=30 * 1024 * 1024)
    assert result.size == total
    assert result.sha256 == stream.expected.hexdigest()

    assert store.put_file(result.path, result.sha256, "audio/mp4") is True
    assert store.size(result.sha256) == total
    digest = hashlib.sha256()
    with store.open(result.sha256) as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    assert digest.hexdigest() == result.sha256


# --- download URLs --------------------------------------------------------------------------


def test_local_download_url_is_none(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path / "blobs")
    sha = local.put_bytes(PHOTO, "image/jpeg")
    assert local.download_url(sha, filename="照片.jpg", content_type="image/jpeg") is None


def test_s3_download_url_serves_the_bytes(s3_server: str, s3_bucket: str) -> None:
    s3 = S3BlobStore(s3_bucket, endpoint_url=s3_server, region_name="us-east-1")
    sha = s3.put_bytes(PHOTO, "application/octet-stream")
    url = s3.download_url(sha, filename="走访照片.jpg", content_type="image/jpeg", expires=60)
    assert url is not None
    assert url.startswith(s3_server)
    assert "X-Amz-Signature=" in url

    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.content == PHOTO
    assert response.headers["Content-Type"] == "image/jpeg"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E8%B5%B0%E8%AE%BF%E7%85%A7%E7%89%87.jpg" in disposition


def test_s3_download_url_without_filename_is_inline(s3_server: str, s3_bucket: str) -> None:
    s3 = S3BlobStore(s3_bucket, endpoint_url=s3_server, region_name="us-east-1")
    sha = s3.put_bytes(PHOTO, "image/jpeg")
    url = s3.download_url(sha, filename=None, content_type="image/jpeg")
    assert url is not None
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == "inline"


def test_content_disposition() -> None:
    assert content_disposition(None) == "inline"
    assert content_disposition("report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    value = content_disposition('名单 "v2".xlsx')
    assert value.startswith('attachment; filename="__ _v2_.xlsx"; ')
    assert value.endswith("filename*=UTF-8''%E5%90%8D%E5%8D%95%20%22v2%22.xlsx")
    assert value.isascii()


# --- S3 specifics ---------------------------------------------------------------------------


def test_s3_put_file_uploads_with_content_type(
    s3_server: str, s3_bucket: str, upload_dir: Path
) -> None:
    s3 = S3BlobStore(s3_bucket, endpoint_url=s3_server, region_name="us-east-1", prefix="x/")
    result = ingest(PHOTO, upload_dir)
    assert s3.put_file(result.path, result.sha256, "image/jpeg") is True
    head = s3.client.head_object(Bucket=s3_bucket, Key=f"x/{PHOTO_SHA}")
    assert head["ContentType"] == "image/jpeg"


def test_s3_ensure_bucket_creates_once(s3_server: str) -> None:
    name = "wangge-ensure-bucket-test"
    s3 = S3BlobStore(name, endpoint_url=s3_server, region_name="us-east-1")
    with pytest.raises(ClientError):
        s3.check()
    s3.ensure_bucket()
    s3.ensure_bucket()
    s3.check()
    boto3.client("s3", endpoint_url=s3_server).delete_bucket(Bucket=name)


# --- local specifics ------------------------------------------------------------------------


def test_local_layout(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path / "blobs")
    sha = local.put_bytes(PHOTO, "image/jpeg")
    path = tmp_path / "blobs" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == PHOTO
    assert local.path_for(sha) == path
    assert list(local.tmp_dir.iterdir()) == []


def test_local_put_file_from_another_directory(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path / "blobs")
    elsewhere = tmp_path / "elsewhere"
    result = ingest(PHOTO, elsewhere)
    assert local.put_file(result.path, result.sha256, "image/jpeg") is True
    assert local.path_for(PHOTO_SHA).read_bytes() == PHOTO
    assert list(elsewhere.iterdir()) == []
    assert list(local.tmp_dir.iterdir()) == []


def test_local_concurrent_puts_store_one_blob(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path / "blobs")
    workers = 8
    uploads = [ingest(PHOTO, tmp_path / "uploads") for _ in range(workers)]
    # The barrier releases every thread at once so the puts genuinely race.
    barrier = threading.Barrier(workers)

    def put(upload: IngestResult) -> bool:
        barrier.wait()
        return local.put_file(upload.path, upload.sha256, "image/jpeg")

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(put, uploads))  # re-raises any worker's exception

    assert sorted(results) == [False] * (workers - 1) + [True]
    assert blob_count(local) == 1
    assert local.path_for(PHOTO_SHA).read_bytes() == PHOTO
    assert list(local.tmp_dir.iterdir()) == []
    assert list((tmp_path / "uploads").iterdir()) == []


def test_local_concurrent_put_bytes(tmp_path: Path) -> None:
    local = LocalBlobStore(tmp_path / "blobs")
    barrier = threading.Barrier(8)

    def put(_: int) -> str:
        barrier.wait()
        return local.put_bytes(PHOTO, "image/jpeg")

    with ThreadPoolExecutor(max_workers=8) as pool:
        shas = list(pool.map(put, range(8)))

    assert shas == [PHOTO_SHA] * 8
    assert blob_count(local) == 1
    assert list(local.tmp_dir.iterdir()) == []


# --- ingest ---------------------------------------------------------------------------------


def test_ingest_stream_hashes_and_keeps_head(upload_dir: Path) -> None:
    data = bytes(range(256)) * 100
    with ingest_stream(io.BytesIO(data), upload_dir, max_bytes=len(data), chunk_size=1000) as r:
        assert r.sha256 == hashlib.sha256(data).hexdigest()
        assert r.size == len(data)
        assert r.head == data[:4096]
        assert r.path.parent == upload_dir
        assert r.path.read_bytes() == data
    assert not r.path.exists()


def test_ingest_stream_short_file_head(upload_dir: Path) -> None:
    result = ingest(b"%PDF-1.4\n", upload_dir)
    assert result.head == b"%PDF-1.4\n"
    assert result.size == 9
    result.discard()
    result.discard()
    assert list(upload_dir.iterdir()) == []


def test_ingest_stream_empty(upload_dir: Path) -> None:
    result = ingest(b"", upload_dir)
    assert (result.size, result.head) == (0, b"")
    assert result.sha256 == hashlib.sha256(b"").hexdigest()


def test_ingest_stream_enforces_max_bytes(upload_dir: Path) -> None:
    stream = PatternStream(5 * 1024 * 1024)
    with pytest.raises(TooLarge) as info:
        ingest_stream(stream, upload_dir, max_bytes=2 * 1024 * 1024, chunk_size=256 * 1024)
    err = info.value
    assert err.code == "files.too_large"
    assert err.details == {"max_bytes": 2 * 1024 * 1024}
    assert "2 MB" in err.message
    assert list(upload_dir.iterdir()) == []
    # It stops reading soon after the limit instead of draining the whole stream.
    assert stream.sent <= 2 * 1024 * 1024 + 256 * 1024


def test_ingest_stream_accepts_exactly_max_bytes(upload_dir: Path) -> None:
    result = ingest(b"x" * 1000, upload_dir, max_bytes=1000)
    assert result.size == 1000
    with pytest.raises(TooLarge):
        ingest(b"x" * 1001, upload_dir, max_bytes=1000)
    assert list(upload_dir.iterdir()) == [result.path]


def test_ingest_large_stream_in_bounded_memory(upload_dir: Path) -> None:
    total = 25 * 1024 * 1024
    stream = PatternStream(total)
    tracemalloc.start()
    try:
        result = ingest_stream(stream, upload_dir, max_bytes=total)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == total
    assert result.sha256 == stream.expected.hexdigest()
    assert result.path.stat().st_size == total
    assert all(0 < n <= 1 << 20 for n in stream.requested)
    # A few chunks in flight at most, far below the 25 MB that buffering would need.
    assert peak < 8 * 1024 * 1024
    result.discard()


# --- helpers and factory --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (PHOTO_SHA, True),
        (MISSING_SHA, True),
        (PHOTO_SHA.upper(), False),
        (PHOTO_SHA[:-1], False),
        (PHOTO_SHA + "\n", False),
        ("g" * 64, False),
        ("", False),
    ],
)
def test_is_sha256(value: str, expected: bool) -> None:
    assert is_sha256(value) is expected


def test_make_blobstore(tmp_path: Path) -> None:
    local = make_blobstore("local", data_dir=tmp_path)
    assert isinstance(local, LocalBlobStore)
    assert local.root == tmp_path / "blobs"

    s3 = make_blobstore(
        "s3", data_dir=tmp_path, bucket="b", endpoint_url="http://127.0.0.1:9", region_name="x"
    )
    assert isinstance(s3, S3BlobStore)
    assert s3.bucket == "b"

    with pytest.raises(ValueError, match="bucket"):
        make_blobstore("s3", data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown blob store"):
        make_blobstore("ftp", data_dir=tmp_path)

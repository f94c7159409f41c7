"""Files API on S3-compatible storage (moto's standalone server over real HTTP)."""

from __future__ import annotations

import dataclasses
import hashlib
import io

import boto3
import pytest

from tests.server.resources.test_files import make_jpeg, make_png

URL = "/api/v1/files"


@pytest.fixture
def bucket(s3_server, s3_bucket):
    return boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1"), s3_bucket


def keys(bucket) -> list[str]:
    client, name = bucket
    return [o["Key"] for o in client.list_objects_v2(Bucket=name).get("Contents", [])]


def on(user, other_app):
    return dataclasses.replace(user, client=other_app.test_client())


def upload(user, data: bytes, filename: str):
    return user.post(
        URL, data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data"
    )


def test_upload_dedupes_into_one_object(s3_app, bucket, worker_a, worker_b):
    a, b = on(worker_a, s3_app), on(worker_b, s3_app)
    png = make_png(seed=42)
    sha = hashlib.sha256(png).hexdigest()
    first = upload(a, png, "门牌.png")
    second = upload(b, png, "copy.png")
    assert first.status_code == second.status_code == 201, first.get_json()
    expected = {"sha256": sha, "size": len(png), "content_type": "image/png"}
    assert first.get_json() == expected and second.get_json() == expected
    assert keys(bucket) == [f"blobs/{sha}"]
    client, name = bucket
    obj = client.get_object(Bucket=name, Key=f"blobs/{sha}")
    assert obj["Body"].read() == png
    assert obj["ContentType"] == "image/png"
    # Nothing is left staged on local disk.
    data_dir = s3_app.extensions["wangge_settings"].data_dir
    assert list((data_dir / "tmp").iterdir()) == []
    assert not (data_dir / "blobs").exists() or not any((data_dir / "blobs").rglob(sha))


def test_download_streams_from_the_bucket(s3_app, bucket, worker_a, worker_b, admin):
    a = on(worker_a, s3_app)
    jpeg = make_jpeg(b"s3 download") + bytes(range(256)) * 600
    sha = upload(a, jpeg, "现场.jpg").get_json()["sha256"]
    r = a.get(f"{URL}/{sha}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "image/jpeg"
    assert r.data == jpeg
    assert on(admin, s3_app).get(f"{URL}/{sha}").data == jpeg
    assert on(worker_b, s3_app).get(f"{URL}/{sha}").status_code == 404


def test_rejected_upload_writes_nothing_to_the_bucket(s3_app, bucket, worker_a):
    r = upload(on(worker_a, s3_app), b"plain text pretending\n" * 10, "photo.jpg")
    assert r.status_code == 415
    assert keys(bucket) == []


def test_health_reports_storage(s3_app, s3_server):
    r = s3_app.test_client().get("/api/v1/health")
    assert r.status_code == 200
    assert r.get_json() == {"status": "ok", "database": "ok", "storage": "ok"}


def test_health_reports_missing_bucket(app, base_config, s3_server, tmp_path):
    from server import create_app

    broken = create_app(
        {
            **base_config,
            "STORAGE": "s3",
            "S3_BUCKET": "wangge-no-such-bucket",
            "S3_ENDPOINT_URL": s3_server,
            "DATA_DIR": str(tmp_path / "broken"),
        }
    )
    try:
        r = broken.test_client().get("/api/v1/health")
        assert r.status_code == 503
        assert r.get_json()["error"]["details"]["storage"] == "error"
        assert r.get_json()["error"]["details"]["database"] == "ok"
    finally:
        broken.extensions["wangge_engine"].dispose()

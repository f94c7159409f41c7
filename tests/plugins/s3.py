"""Pytest fixtures running moto's S3 server on loopback so blob store tests need no network."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # A developer's ~/.aws profile could otherwise inject real credentials or endpoints.
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
}
_UNSET_AWS_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


def _s3_client(endpoint_url: str):
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """Endpoint URL of a moto S3 server on 127.0.0.1, with dummy AWS credentials in the env."""
    from moto.server import ThreadedMotoServer

    env = pytest.MonkeyPatch()
    for name, value in _FAKE_AWS_ENV.items():
        env.setenv(name, value)
    for name in _UNSET_AWS_ENV:
        env.delenv(name, raising=False)
    # botocore and requests both honour HTTP(S)_PROXY; loopback must bypass any proxy.
    for name in ("NO_PROXY", "no_proxy"):
        env.setenv(name, "127.0.0.1,localhost", prepend=",")

    # Port 0 lets the OS pick a free port, avoiding the probe-then-bind race.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        env.undo()


@pytest.fixture
def s3_bucket(s3_server: str) -> Iterator[str]:
    """Name of a fresh, empty bucket on the moto server; removed with its objects afterwards."""
    client = _s3_client(s3_server)
    name = f"wangge-test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    yield name
    # moto keeps objects in memory for the whole session; large test blobs add up.
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=name):
        for obj in page.get("Contents", []):
            client.delete_object(Bucket=name, Key=obj["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def s3_app(app, base_config, s3_server, s3_bucket, tmp_path):
    """An app storing blobs in the test bucket; same database as the session app."""
    from server import create_app

    made = create_app(
        {
            **base_config,
            "STORAGE": "s3",
            "S3_BUCKET": s3_bucket,
            "S3_ENDPOINT_URL": s3_server,
            "DATA_DIR": str(tmp_path / "s3-data"),
        }
    )
    yield made
    made.extensions["wangge_engine"].dispose()

"""Settings come from WANGGE_* environment variables; a dict given to the factory wins."""

from __future__ import annotations

import stat

import pytest

from server.config import load_settings, normalize_database_url


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    return {"WANGGE_DATA_DIR": str(tmp_path / "data")}


def test_defaults(env, tmp_path):
    s = load_settings(None, env=env)
    assert s.data_dir == (tmp_path / "data").resolve() and s.data_dir.is_dir()
    assert s.database_url == f"sqlite:///{tmp_path / 'data' / 'wangge.db'}"
    assert s.is_sqlite
    assert s.storage == "local" and s.redis_url is None
    assert s.max_upload_mb == 20 and s.max_upload_bytes == 20 * 1024 * 1024
    assert s.access_token_minutes == 30 and s.refresh_token_days == 30
    assert (s.login_max_failures, s.login_window_minutes) == (5, 15)


def test_prefixed_environment_variables_are_read(env):
    env.update(
        {
            "WANGGE_DATABASE_URL": "postgresql://u:p@db.example:5432/wangge",
            "WANGGE_SECRET_KEY": "from-env-secret",
            "WANGGE_PII_KEY": "from-env-pii",
            "WANGGE_STORAGE": "S3",
            "WANGGE_S3_BUCKET": "files",
            "WANGGE_S3_ENDPOINT_URL": "http://minio:9000",
            "WANGGE_REDIS_URL": "redis://cache:6379/0",
            "WANGGE_MAX_UPLOAD_MB": "5",
            "WANGGE_ACCESS_TOKEN_MINUTES": "10",
            "WANGGE_REFRESH_TOKEN_DAYS": "7",
            "WANGGE_LOGIN_MAX_FAILURES": "3",
            "WANGGE_LOGIN_WINDOW_MINUTES": "60",
            "AWS_DEFAULT_REGION": "cn-north-1",
        }
    )
    s = load_settings(None, env=env)
    assert s.database_url == "postgresql+psycopg://u:p@db.example:5432/wangge"
    assert not s.is_sqlite
    assert s.secret_key == "from-env-secret" and s.pii_key == "from-env-pii"
    assert s.storage == "s3" and s.s3_bucket == "files"
    assert s.s3_endpoint_url == "http://minio:9000" and s.s3_region == "cn-north-1"
    assert s.redis_url == "redis://cache:6379/0"
    assert s.max_upload_bytes == 5 * 1024 * 1024
    assert (s.access_token_minutes, s.refresh_token_days) == (10, 7)
    assert (s.login_max_failures, s.login_window_minutes) == (3, 60)
    # Secrets given by the environment are not written to the data dir.
    assert not (s.data_dir / "secret_key").exists() and not (s.data_dir / "pii_key").exists()


def test_unprefixed_variables_are_ignored(env):
    env.update({"DATABASE_URL": "postgresql://elsewhere/db", "SECRET_KEY": "nope"})
    s = load_settings(None, env=env)
    assert s.is_sqlite and s.secret_key != "nope"


def test_overrides_beat_the_environment(env, tmp_path):
    env.update(
        {
            "WANGGE_ACCESS_TOKEN_MINUTES": "10",
            "WANGGE_SECRET_KEY": "env-secret",
            "WANGGE_STORAGE": "s3",
            "WANGGE_S3_REGION": "cn-north-1",
        }
    )
    other = tmp_path / "other"
    s = load_settings(
        {
            "ACCESS_TOKEN_MINUTES": 45,
            "SECRET_KEY": "dict-secret",
            "storage": "local",
            "WANGGE_DATA_DIR": str(other),
            "S3_REGION": None,  # None means "not overridden"
        },
        env=env,
    )
    assert s.access_token_minutes == 45
    assert s.secret_key == "dict-secret"
    assert s.storage == "local"
    assert s.data_dir == other.resolve()
    assert s.s3_region == "cn-north-1"


def test_zero_override_is_kept(env):
    s = load_settings({"LOGIN_MAX_FAILURES": 0}, env={**env, "WANGGE_LOGIN_MAX_FAILURES": "9"})
    assert s.login_max_failures == 0


def test_bad_storage_is_rejected(env):
    with pytest.raises(ValueError, match="WANGGE_STORAGE"):
        load_settings(None, env={**env, "WANGGE_STORAGE": "ftp"})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_normalisation(url, expected):
    assert normalize_database_url(url) == expected


def test_generated_secrets_are_private_and_stable(env):
    first = load_settings(None, env=env)
    for name in ("secret_key", "pii_key"):
        path = first.data_dir / name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret_key == (first.data_dir / "secret_key").read_text()
    assert first.pii_key == (first.data_dir / "pii_key").read_text()
    assert len(first.secret_key) >= 48 and first.secret_key != first.pii_key
    again = load_settings(None, env=env)
    assert (again.secret_key, again.pii_key) == (first.secret_key, first.pii_key)
    # The generated PII key is one the cipher accepts.
    from ledger.registry.pii import PiiCipher

    PiiCipher(first.pii_key)


def test_secrets_stay_out_of_repr(env):
    s = load_settings({"SECRET_KEY": "top-secret-value", "PII_KEY": "pii-secret-value"}, env=env)
    text = repr(s)
    assert "top-secret-value" not in text and "pii-secret-value" not in text
    assert "access_token_minutes=30" in text


def test_create_app_overrides_environment(base_config, monkeypatch, client, make_user):
    from server import create_app

    monkeypatch.setenv("WANGGE_ACCESS_TOKEN_MINUTES", "5")
    monkeypatch.setenv("WANGGE_MAX_UPLOAD_MB", "2")
    app = create_app({**base_config, "ACCESS_TOKEN_MINUTES": 7})
    try:
        settings = app.extensions["wangge_settings"]
        assert settings.access_token_minutes == 7  # the dict wins
        assert settings.max_upload_mb == 2  # the environment fills the rest
        assert app.config["MAX_CONTENT_LENGTH"] == 2 * 1024 * 1024
        assert app.config["TESTING"] is True  # upper-case keys reach Flask's config
        user = make_user("admin")
        r = app.test_client().post(
            "/api/v1/auth/login", json={"username": user.username, "password": user.password}
        )
        assert r.status_code == 200 and r.get_json()["expires_in"] == 7 * 60
    finally:
        app.extensions["wangge_engine"].dispose()

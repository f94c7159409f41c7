"""Settings from WANGGE_* environment variables, overridable by a dict passed to the factory."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PREFIX = "WANGGE_"


@dataclass
class Settings:
    """Everything the app reads from its environment; secrets are excluded from repr."""

    data_dir: Path
    database_url: str
    secret_key: str = field(repr=False)
    pii_key: str = field(repr=False)
    storage: str = "local"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    redis_url: str | None = None
    max_upload_mb: int = 20
    access_token_minutes: int = 30
    refresh_token_days: int = 30
    login_max_failures: int = 5
    login_max_failures_per_ip: int = 30
    login_window_minutes: int = 15
    # How many reverse proxies in front of the app set X-Forwarded-For. 0 trusts none: a
    # directly exposed app must not let clients choose the IP that throttling and audit see.
    proxy_hops: int = 0
    ocr_engine: str = "rapidocr"
    # Load OCR models at start (production) rather than on the first scan (tests, dev).
    ocr_preload: bool = False
    # auto: Vosk when WANGGE_VOSK_MODEL is a Chinese model, else Whisper (speech.engine).
    speech_engine: str = "auto"
    speech_preload: bool = False
    # Longest dictation accepted, by upload or stream (the default: 5 minutes).
    speech_max_seconds: int = 300
    # A live stream that sends nothing for this long is closed, freeing its worker thread.
    speech_idle_seconds: int = 30
    # Background jobs (exports, imports) run on this many threads of each web process unless
    # WANGGE_REDIS_URL sends them to queue workers.
    job_threads: int = 1
    # A job's process beats this often; four missed beats and the job is failed as lost.
    job_heartbeat_seconds: float = 10.0
    job_timeout_seconds: int = 3600
    # Where the CJK font for PDF exports is; found among the usual system fonts if unset.
    pdf_font: str | None = None

    @property
    def job_stale_seconds(self) -> float:
        return self.job_heartbeat_seconds * 4

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _lookup(overrides: dict[str, Any], env: dict[str, str], name: str, default=None):
    for key in (name, PREFIX + name, name.lower()):
        if key in overrides and overrides[key] is not None:
            return overrides[key]
    return env.get(PREFIX + name, default)


def _secret_from_file(path: Path, make) -> str:
    """Read a generated secret, creating it once; O_EXCL makes concurrent workers agree."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            value = path.read_text().strip()
            if value:
                return value
            # Another worker created the file a moment ago and is still writing it.
            time.sleep(0.02)
        raise RuntimeError(f"secret file {path} is empty") from None
    value = make()
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    return value


def normalize_database_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def load_settings(overrides: dict[str, Any] | None = None, env=None) -> Settings:
    overrides = dict(overrides or {})
    env = os.environ if env is None else env
    data_dir = Path(_lookup(overrides, env, "DATA_DIR", "./instance")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = _lookup(overrides, env, "DATABASE_URL") or f"sqlite:///{data_dir / 'wangge.db'}"

    secret_key = _lookup(overrides, env, "SECRET_KEY") or _secret_from_file(
        data_dir / "secret_key", lambda: secrets.token_urlsafe(48)
    )

    def make_pii_key() -> str:
        from ledger.registry.pii import generate_key

        return generate_key()

    pii_key = _lookup(overrides, env, "PII_KEY") or _secret_from_file(
        data_dir / "pii_key", make_pii_key
    )

    def number(name: str, default: int) -> int:
        return int(_lookup(overrides, env, name, default))

    storage = str(_lookup(overrides, env, "STORAGE", "local")).lower()
    if storage not in ("local", "s3"):
        raise ValueError("WANGGE_STORAGE must be 'local' or 's3'")
    return Settings(
        data_dir=data_dir,
        database_url=normalize_database_url(str(database_url)),
        secret_key=str(secret_key),
        pii_key=str(pii_key),
        storage=storage,
        s3_bucket=_lookup(overrides, env, "S3_BUCKET"),
        s3_endpoint_url=_lookup(overrides, env, "S3_ENDPOINT_URL"),
        s3_region=_lookup(overrides, env, "S3_REGION") or env.get("AWS_DEFAULT_REGION"),
        redis_url=_lookup(overrides, env, "REDIS_URL"),
        max_upload_mb=number("MAX_UPLOAD_MB", 20),
        access_token_minutes=number("ACCESS_TOKEN_MINUTES", 30),
        refresh_token_days=number("REFRESH_TOKEN_DAYS", 30),
        login_max_failures=number("LOGIN_MAX_FAILURES", 5),
        login_max_failures_per_ip=number("LOGIN_MAX_FAILURES_PER_IP", 30),
        login_window_minutes=number("LOGIN_WINDOW_MINUTES", 15),
        proxy_hops=number("PROXY_HOPS", 0),
        ocr_engine=str(_lookup(overrides, env, "OCR_ENGINE", "rapidocr")).strip().lower(),
        ocr_preload=_flag(_lookup(overrides, env, "OCR_PRELOAD", "0")),
        speech_engine=str(_lookup(overrides, env, "SPEECH_ENGINE", "auto")).strip().lower(),
        speech_preload=_flag(_lookup(overrides, env, "SPEECH_PRELOAD", "0")),
        speech_max_seconds=number("SPEECH_MAX_SECONDS", 300),
        speech_idle_seconds=number("SPEECH_IDLE_SECONDS", 30),
        job_threads=max(1, number("JOB_THREADS", 1)),
        job_heartbeat_seconds=float(_lookup(overrides, env, "JOB_HEARTBEAT_SECONDS", 10)),
        job_timeout_seconds=number("JOB_TIMEOUT_SECONDS", 3600),
        pdf_font=_lookup(overrides, env, "PDF_FONT"),
    )


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")

"""Process-wide services built once at start-up: PII cipher, blob store, OCR and speech."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from ledger.context import Ctx
from ledger.files.blobstore import BlobStore, make_blobstore
from ledger.registry.pii import PiiCipher
from server.config import Settings
from server.db import app_session, get_session


def init_services(app: Flask, settings: Settings) -> None:
    app.extensions["wangge_pii"] = PiiCipher(settings.pii_key)
    app.extensions["wangge_blobs"] = make_blobstore(
        settings.storage,
        data_dir=settings.data_dir,
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.s3_region,
    )
    (settings.data_dir / "tmp").mkdir(parents=True, exist_ok=True)
    from server.jobs.runners import init_runner

    init_runner(app)
    if settings.ocr_preload:
        with app.app_context():
            ocr_engine()
    if settings.speech_preload:
        with app.app_context():
            speech_engine()


def ocr_engine():
    """The process-wide OCR engine (``WANGGE_OCR_ENGINE``), loaded and warmed up once."""
    from ocr.engine import get_engine, warm_up

    settings = current_app.extensions["wangge_settings"]
    engine = get_engine(settings.ocr_engine)
    if not getattr(engine, "warmed_up", False):
        warm_up(engine)
        engine.warmed_up = True
    return engine


_speech_warm = threading.Lock()


def speech_model_dir(settings: Settings) -> Path:
    """Where Whisper weights are assembled: WANGGE_SPEECH_MODEL_DIR, else models/ in data_dir."""
    explicit = os.environ.get("WANGGE_SPEECH_MODEL_DIR")
    return Path(explicit).resolve() if explicit else settings.data_dir / "models"


def speech_engine():
    """The process-wide speech engine (``WANGGE_SPEECH_ENGINE``), loaded and warmed up once."""
    from speech.engine import get_engine, warm_up

    settings = current_app.extensions["wangge_settings"]
    engine = get_engine(settings.speech_engine, cache_dir=speech_model_dir(settings))
    if not getattr(engine, "warmed_up", False):
        # Two first requests at once must not both pay for the warm-up run.
        with _speech_warm:
            if not getattr(engine, "warmed_up", False):
                warm_up(engine)
                engine.warmed_up = True
    return engine


def blobs() -> BlobStore:
    return current_app.extensions["wangge_blobs"]


def ctx(session: Session | None = None) -> Ctx:
    """The domain context for this request: session, actor and scope of the caller.

    With ``session``, a context over that session instead of the request's own one.
    """
    from server.auth.service import current_actor

    if session is None and "wangge_ctx" in g:
        return g.wangge_ctx
    app = current_app._get_current_object()
    made = Ctx(
        session=session or get_session(),
        actor=current_actor(),
        scope=g.scope,
        pii=current_app.extensions["wangge_pii"],
        blobs=blobs(),
        read_session=lambda: app_session(app, write=False),
    )
    if session is None:
        g.wangge_ctx = made
    return made

"""Process-wide services built once at start-up: PII cipher and blob store."""

from __future__ import annotations

from flask import Flask, current_app, g

from ledger.context import Ctx
from ledger.files.blobstore import BlobStore, make_blobstore
from ledger.registry.pii import PiiCipher
from server.config import Settings
from server.db import get_session


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
    if settings.ocr_preload:
        with app.app_context():
            ocr_engine()


def ocr_engine():
    """The process-wide OCR engine (``WANGGE_OCR_ENGINE``), loaded and warmed up once."""
    from ocr.engine import get_engine, warm_up

    settings = current_app.extensions["wangge_settings"]
    engine = get_engine(settings.ocr_engine)
    if not getattr(engine, "warmed_up", False):
        warm_up(engine)
        engine.warmed_up = True
    return engine


def blobs() -> BlobStore:
    return current_app.extensions["wangge_blobs"]


def ctx() -> Ctx:
    """The domain context for this request: session, actor and scope of the caller."""
    if "wangge_ctx" not in g:
        from server.auth.service import current_actor

        g.wangge_ctx = Ctx(
            session=get_session(),
            actor=current_actor(),
            scope=g.scope,
            pii=current_app.extensions["wangge_pii"],
            blobs=blobs(),
        )
    return g.wangge_ctx

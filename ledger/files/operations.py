"""File operations: accept an ingested upload, decide who may read a blob, link it to records."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.context import Ctx
from ledger.files.blobstore import BlobNotFound, IngestResult
from ledger.files.models import FileRef, FileUpload, PendingFileRef, StoredFile
from ledger.files.sniff import ALLOWED_UPLOAD_TYPES, check_upload


def store_upload(
    ctx: Ctx,
    upload: IngestResult,
    *,
    filename: str | None,
    declared_type: str | None,
    allowed: frozenset[str] = ALLOWED_UPLOAD_TYPES,
) -> StoredFile:
    """Check the bytes are what they claim, store them once, and remember the uploader."""
    content_type = check_upload(upload.head, filename, declared_type, allowed)
    ctx.blobs.put_file(Path(upload.path), upload.sha256, content_type)
    record = _record_file(ctx, upload.sha256, upload.size, content_type)
    _remember_uploader(ctx, upload.sha256, filename)
    ctx.session.flush()
    return record


def readable_file(ctx: Ctx, sha256: str) -> StoredFile:
    """The file if the caller uploaded it or may see a record that uses it; else not found."""
    record = ctx.session.get(StoredFile, sha256)
    if record is None:
        raise BlobNotFound(details={"sha256": sha256})
    if ctx.scope.unrestricted:
        return record
    uploaded = ctx.session.scalar(
        select(exists().where(FileUpload.sha256 == sha256, FileUpload.user_id == ctx.actor.id))
    )
    if uploaded:
        return record
    refs = ctx.session.execute(
        select(FileRef.area_id, FileRef.object_type, FileRef.object_id).where(
            FileRef.sha256 == sha256
        )
    )
    for area_id, object_type, object_id in refs:
        if ctx.scope.allows(area_id) and _may_read_ref(ctx, object_type, object_id):
            return record
    # Same answer as a missing file, so hashes cannot be probed for existence.
    raise BlobNotFound(details={"sha256": sha256})


def _may_read_ref(ctx: Ctx, object_type: str, object_id: str) -> bool:
    """Department staff read the files of the cases dispatched to them and nothing else in
    their area (no ID card scans, no ledger photos)."""
    if ctx.actor is None or ctx.actor.role != "department_staff":
        return True
    if object_type != "report":
        return False
    from ledger.reports.models import Report  # the reports package builds on this one

    report = ctx.session.get(Report, object_id)
    return report is not None and report.department_id == ctx.actor.department_id


def add_ref(
    session: Session, sha256: str, *, object_type: str, object_id: str, area_id: int | None
) -> None:
    """Record that ``object`` uses the file, granting its area's readers access; a file not
    uploaded yet is linked when it arrives."""
    key = (sha256, object_type, object_id)
    if session.get(StoredFile, sha256) is None:
        if session.get(PendingFileRef, key) is None:
            session.add(PendingFileRef(sha256=sha256, object_type=object_type,
                                       object_id=object_id, area_id=area_id))  # fmt: skip
            session.flush()
        return
    if session.get(FileRef, key) is None:
        session.add(
            FileRef(sha256=sha256, object_type=object_type, object_id=object_id, area_id=area_id)
        )
        session.flush()


def set_refs(session: Session, hashes: list[str], *, object_type: str, object_id: str,
             area_id: int | None) -> None:  # fmt: skip
    """Make ``object``'s references exactly ``hashes`` in ``area_id``: files it no longer
    names stop being readable through it, and a move to another grid moves them along."""
    wanted = set(hashes)
    for model in (FileRef, PendingFileRef):
        for ref in session.scalars(
            select(model).where(model.object_type == object_type, model.object_id == object_id)
        ):
            if ref.sha256 not in wanted:
                session.delete(ref)
            else:
                ref.area_id = area_id
    session.flush()
    for sha256 in sorted(wanted):
        add_ref(session, sha256, object_type=object_type, object_id=object_id, area_id=area_id)


def _link_pending(session: Session, sha256: str) -> None:
    """The file has arrived: records that were waiting for it now grant access to it."""
    for pending in session.scalars(select(PendingFileRef).where(PendingFileRef.sha256 == sha256)):
        if session.get(FileRef, (sha256, pending.object_type, pending.object_id)) is None:
            session.add(FileRef(sha256=sha256, object_type=pending.object_type,
                                object_id=pending.object_id, area_id=pending.area_id))  # fmt: skip
        session.delete(pending)
    session.flush()


def missing_files(session: Session, hashes: list[str]) -> list[str]:
    """Which of these hashes the server has no blob record for yet."""
    wanted = sorted(set(hashes))
    if not wanted:
        return []
    have = set(session.scalars(select(StoredFile.sha256).where(StoredFile.sha256.in_(wanted))))
    return [h for h in wanted if h not in have]


def store_bytes(ctx: Ctx, data: bytes, content_type: str) -> StoredFile:
    """Store bytes the server produced itself (crops, renders); the actor counts as uploader."""
    sha256 = ctx.blobs.put_bytes(data, content_type)
    record = _record_file(ctx, sha256, len(data), content_type)
    _remember_uploader(ctx, sha256, None)
    ctx.session.flush()
    return record


def _record_file(ctx: Ctx, sha256: str, size: int, content_type: str) -> StoredFile:
    record = ctx.session.get(StoredFile, sha256)
    if record is None:
        try:
            with ctx.session.begin_nested():
                record = StoredFile(sha256=sha256, size=size, content_type=content_type)
                ctx.session.add(record)
        except IntegrityError:
            # Another request stored the same bytes a moment ago: theirs is ours.
            record = ctx.session.get(StoredFile, sha256)
        else:
            _link_pending(ctx.session, sha256)
    return record


def _remember_uploader(ctx: Ctx, sha256: str, filename: str | None) -> None:
    if ctx.actor.id is None or ctx.session.get(FileUpload, (sha256, ctx.actor.id)) is not None:
        return
    try:
        with ctx.session.begin_nested():
            ctx.session.add(
                FileUpload(
                    sha256=sha256, user_id=ctx.actor.id, filename=(filename or "")[:255] or None
                )
            )
    except IntegrityError:
        pass

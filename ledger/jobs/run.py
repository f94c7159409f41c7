"""What a job handler gets to work with: params, the starter's identity and scope, sessions,
a progress reporter and a place to put its output file. No HTTP and no queue details."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ledger.areas.scope import Scope
from ledger.audit.operations import Actor
from ledger.context import Ctx

if TYPE_CHECKING:
    from ledger.files.blobstore import BlobStore
    from ledger.registry.pii import PiiCipher

# kind → "module:function"; imported on first use so a worker loads only what it runs.
HANDLERS = {
    "ledger_export": "ledger.ledgers.exports.job:run_export",
    "ledger_import": "ledger.ledgers.imports.job:run_import",
}


def handler_for(kind: str) -> Callable[[JobRun], None]:
    module, _, name = HANDLERS[kind].partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass
class Output:
    path: Path
    filename: str
    content_type: str


@dataclass
class JobRun:
    """One execution of a job. ``read_session`` never takes SQLite's write lock, so a long
    export does not block field workers' syncs; ``write_session`` commits when its block ends.
    ``report`` writes progress in a transaction of its own: on SQLite it is skipped while the
    same thread holds a write session (the one writer would wait for itself)."""

    job_id: str
    kind: str
    params: dict[str, Any]
    actor: Actor
    scope: Scope
    pii: PiiCipher
    blobs: BlobStore
    tmp_dir: Path
    read_session: Callable[[], AbstractContextManager[Session]]
    write_session: Callable[[], AbstractContextManager[Session]]
    report: Callable[[float, int], None]
    # Process settings a handler may need (e.g. "pdf_font").
    options: dict[str, Any] = field(default_factory=dict)
    rows: int = 0
    result: dict[str, Any] | None = None
    output: Output | None = None
    cleanup: list[Path] = field(default_factory=list)

    def ctx(self, session: Session) -> Ctx:
        return Ctx(
            session=session, actor=self.actor, scope=self.scope, pii=self.pii, blobs=self.blobs
        )

    def temp_path(self, suffix: str) -> Path:
        """A file for the job's output, removed after the run whatever happens."""
        path = self.tmp_dir / f"job-{self.job_id}{suffix}"
        self.cleanup.append(path)
        return path

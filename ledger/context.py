"""The per-call context that domain operations receive instead of globals."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ledger.areas.scope import Scope
from ledger.audit.operations import Actor

if TYPE_CHECKING:
    from ledger.files.blobstore import BlobStore
    from ledger.registry.pii import PiiCipher


@dataclass
class Ctx:
    """Unit of work for one call: the session to flush into, who acts, what they may see."""

    session: Session
    actor: Actor
    scope: Scope
    pii: PiiCipher
    blobs: BlobStore | None = None
    # Opens a read-only session of its own (never SQLite's write lock): for reads that may
    # run beside the call's own transaction, e.g. on another thread.
    read_session: Callable[[], AbstractContextManager[Session]] | None = None

"""The process-wide category suggester: built from the office's category tree and retrained
from dispatchers' confirmed (closed) cases, in the background, without blocking a request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.reports.models import Report, ReportCategory
from ledger.reports.suggest import Suggester
from ledger.reports.taxonomy import Category

log = logging.getLogger(__name__)

# Closed cases newest first: enough for every leaf, and a rebuild stays near a second.
MAX_EXAMPLES = 20_000
# How often a request may look for news (new closed cases, edited categories).
CHECK_SECONDS = 30.0


def _tree(session: Session) -> list[Category]:
    rows = session.scalars(select(ReportCategory).where(ReportCategory.active.is_(True)))
    return [Category(c.code, c.name, c.parent_code, None, {}, tuple(c.keywords)) for c in rows]


def _signature(session: Session) -> tuple:
    """Changes when the tree is edited or more cases close: then the model is out of date."""
    categories = session.execute(
        select(func.count(), func.coalesce(func.sum(ReportCategory.version), 0))
    ).one()
    closed = session.scalar(select(func.count()).where(Report.state == "closed"))
    return (*categories, closed)


def build(session: Session) -> Suggester:
    """A suggester from the database: the tree's keywords plus the latest closed cases."""
    examples = session.execute(
        select(Report.category_code, Report.title, Report.description)
        .where(Report.state == "closed")
        .order_by(Report.closed_at.desc())
        .limit(MAX_EXAMPLES)
    )
    pairs = [
        (code, f"{title} {description or ''}".strip()) for code, title, description in examples
    ]
    return Suggester.from_taxonomy(_tree(session), pairs)


class SuggesterCache:
    """Holds the current suggester. The first call builds one in the caller's session; later
    calls check for news now and then and rebuild in a thread with a session of its own,
    serving the previous model meanwhile."""

    def __init__(self, session_factory: Callable[[], Session] | None = None,
                 check_seconds: float = CHECK_SECONDS) -> None:  # fmt: skip
        self._factory = session_factory
        self._check_seconds = check_seconds
        self._lock = threading.Lock()
        self._model: Suggester | None = None
        self._signature: tuple | None = None
        self._checked = 0.0
        self._rebuilding = False

    def get(self, session: Session) -> Suggester:
        model = self._model
        if model is None:
            with self._lock:
                if self._model is None:
                    self._signature = _signature(session)
                    self._model = build(session)
                    self._checked = time.monotonic()
                return self._model
        if time.monotonic() - self._checked >= self._check_seconds:
            self._checked = time.monotonic()
            if _signature(session) != self._signature:
                self.refresh(session if self._factory is None else None)
        return model

    def refresh(self, session: Session | None = None) -> None:
        """Rebuild now in ``session``, or in the background with a session of its own."""
        if session is not None:
            signature, model = _signature(session), build(session)
            with self._lock:
                self._signature, self._model = signature, model
            return
        with self._lock:
            if self._rebuilding:
                return
            self._rebuilding = True
        threading.Thread(target=self._rebuild, name="suggester-retrain", daemon=True).start()

    def _rebuild(self) -> None:
        try:
            with self._factory() as session:
                signature, model = _signature(session), build(session)
            with self._lock:
                self._signature, self._model = signature, model
            log.info("category suggester retrained on %d closed cases", model.trained_on)
        except Exception:  # a failed retrain keeps the previous model serving
            log.exception("category suggester retrain failed")
        finally:
            self._rebuilding = False

    @property
    def trained_on(self) -> int:
        return self._model.trained_on if self._model else 0

"""Fixtures for the sync engine's tests without HTTP."""

from __future__ import annotations

import pytest


@pytest.fixture
def session(db_session, tree):
    """A session over the test tree of areas, rolled back and closed afterwards."""
    return db_session

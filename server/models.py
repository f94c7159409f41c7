"""Imports every model so that the shared metadata is complete (Alembic, tests, CLI)."""

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.audit.models import AuditEntry
from ledger.db import Base
from ledger.files.models import FileRef, FileUpload, StoredFile
from ledger.registry.models import DocumentScan, Household, Person, PersonTag
from server.auth.models import AuthSession, LoginFailure, RefreshToken

metadata = Base.metadata

__all__ = [
    "Area",
    "AuditEntry",
    "AuthSession",
    "DocumentScan",
    "FileRef",
    "FileUpload",
    "Household",
    "LoginFailure",
    "Person",
    "PersonTag",
    "RefreshToken",
    "StoredFile",
    "User",
    "metadata",
]

"""Imports every model so that the shared metadata is complete (Alembic, tests, CLI)."""

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.audit.models import AuditEntry
from ledger.db import Base
from ledger.files.models import FileRef, FileUpload, PendingFileRef, StoredFile
from ledger.jobs.models import Job
from ledger.ledgers.models import (
    LedgerEntry,
    LedgerEntryKey,
    LedgerTemplate,
    LedgerTemplateVersion,
)
from ledger.registry.models import DocumentScan, Household, Person, PersonTag
from ledger.reports.models import (
    ApiClient,
    Department,
    Report,
    ReportAction,
    ReportCategory,
    ReportEvent,
    RoutingRule,
)
from server.auth.models import AuthSession, LoginFailure, RefreshToken
from sync.models import (
    SyncChange,
    SyncClock,
    SyncConflict,
    SyncMutation,
    SyncRecordMeta,
    SyncRemap,
)

# Importing the entities installs change tracking on every session of the process.
import sync.entities  # noqa: F401  isort: skip

metadata = Base.metadata

__all__ = [
    "ApiClient",
    "Area",
    "AuditEntry",
    "AuthSession",
    "Department",
    "DocumentScan",
    "FileRef",
    "FileUpload",
    "Household",
    "Job",
    "LedgerEntry",
    "LedgerEntryKey",
    "LedgerTemplate",
    "LedgerTemplateVersion",
    "LoginFailure",
    "PendingFileRef",
    "Person",
    "PersonTag",
    "RefreshToken",
    "Report",
    "ReportAction",
    "ReportCategory",
    "ReportEvent",
    "RoutingRule",
    "StoredFile",
    "SyncChange",
    "SyncClock",
    "SyncConflict",
    "SyncMutation",
    "SyncRecordMeta",
    "SyncRemap",
    "User",
    "metadata",
]

"""The registry's, the ledgers' and the reports' record types as syncable entities; importing
this installs change tracking."""

from sync import tracking
from sync.entities import households, ledger_entries, people, reports

tracking.install()

__all__ = ["households", "ledger_entries", "people", "reports"]

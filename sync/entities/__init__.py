"""The registry's and the ledgers' record types as syncable entities; importing this installs
change tracking."""

from sync import tracking
from sync.entities import households, ledger_entries, people

tracking.install()

__all__ = ["households", "ledger_entries", "people"]

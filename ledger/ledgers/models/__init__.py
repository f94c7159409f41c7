"""Ledger models: templates, their versions, and entries."""

from ledger.ledgers.models.entry import LedgerEntry
from ledger.ledgers.models.entry_key import LedgerEntryKey
from ledger.ledgers.models.template import LedgerTemplate, LedgerTemplateVersion

__all__ = ["LedgerEntry", "LedgerEntryKey", "LedgerTemplate", "LedgerTemplateVersion"]

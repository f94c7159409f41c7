"""Registry models: people, their tags, and households."""

from ledger.registry.models.household import Household
from ledger.registry.models.person import Person, PersonTag
from ledger.registry.models.scan import DocumentScan

__all__ = ["DocumentScan", "Household", "Person", "PersonTag"]

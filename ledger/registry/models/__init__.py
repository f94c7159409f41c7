"""Registry models: people, their tags, and households."""

from ledger.registry.models.household import Household
from ledger.registry.models.person import Person, PersonTag

__all__ = ["Household", "Person", "PersonTag"]

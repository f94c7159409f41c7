"""The registry's record types as syncable entities; importing this installs change tracking."""

from sync import tracking
from sync.entities import households, people

tracking.install()

__all__ = ["households", "people"]

"""Tables the sync engine owns; the records themselves stay in their own packages."""

from sync.models.change import SyncChange
from sync.models.clock import SyncClock
from sync.models.conflict import SyncConflict
from sync.models.meta import SyncRecordMeta
from sync.models.mutation import SyncMutation
from sync.models.remap import SyncRemap

__all__ = ["SyncChange", "SyncClock", "SyncConflict", "SyncMutation", "SyncRecordMeta", "SyncRemap"]

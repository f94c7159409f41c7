"""Syncable entities: what each record type tells the sync engine about itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ledger.context import Ctx


class Snapshot(NamedTuple):
    """A record as a pull sends it: its area (for scope), version and masked fields."""

    area_id: int | None
    version: int
    fields: dict[str, Any]


@dataclass(frozen=True)
class SyncEntity:
    """One record type the field app keeps offline.

    ``columns`` maps ORM attributes to the sync fields they carry, so that a change made
    through any path (the REST API, an import, a push) is logged with the fields it touched.
    """

    name: str  # in native mutations: "person"
    table: str  # in WatermelonDB: "people"
    model: type
    fields: tuple[str, ...]
    columns: dict[str, str]
    # Scope rule: the area (grid) a record belongs to; pulls and pushes are limited by it.
    area_of: Callable[[Any], int | None]
    # The dedupe key: an existing record a new one duplicates, if any.
    dedupe: Callable[[Ctx, dict[str, Any]], Any | None]
    create: Callable[[Ctx, str, dict[str, Any]], Any]
    update: Callable[[Ctx, Any, dict[str, Any]], None]
    delete: Callable[[Ctx, Any], None]
    # Fields as a device receives them (personal data masked).
    read: Callable[[Ctx, Any], dict[str, Any]]
    # The pushed fields that differ from the stored values; a masked value sent back is
    # "unchanged".
    changed: Callable[[Ctx, Any, dict[str, Any]], dict[str, Any]]
    # Permission names the caller's role must hold, checked by the server's table.
    write_permission: str
    delete_permission: str
    # sha256 of files a record's fields reference.
    file_refs: Callable[[dict[str, Any]], list[str]] = field(default=lambda fields: [])
    # Fields whose values are personal data, masked in conflict listings.
    personal: tuple[str, ...] = ()
    # Masks personal data nested inside field values for conflict listings (optional; flat
    # ``personal`` fields are masked by name).
    mask: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Fields holding lists or objects: WatermelonDB columns carry them as JSON text.
    json_fields: tuple[str, ...] = ()
    # Object fields merged key by key: a stale edit of some keys conflicts only where
    # somebody else changed those keys since. ``changed_keys`` gives, for a record about to
    # be written, the "field.key" names its write changes, and forgets them.
    keyed: tuple[str, ...] = ()
    changed_keys: Callable[[Any], set[str]] | None = None
    # Bulk registration (optional): ``build`` validates a new record and returns it
    # without adding it to the session (``sync.bulk`` writes it); ``dedupe_key`` is the
    # new record's dedupe key (None: none or invalid), and ``dedupe_taken`` which of some
    # keys already exist. With them, a push of many new records is written in a few
    # statements instead of one savepoint each.
    build: Callable[[Ctx, str, dict[str, Any]], Any] | None = None
    dedupe_key: Callable[[Ctx, dict[str, Any]], str | None] | None = None
    dedupe_taken: Callable[[Ctx, list[str]], set[str]] | None = None
    # Bulk edits (optional): ``patch`` validates changes and applies them to a loaded record
    # without flushing, raising before the record is written if they are refused (the caller
    # expires the record then). Edits of ``patch_excludes`` fields, whose effects reach other
    # records, take the one-at-a-time path.
    patch: Callable[[Ctx, Any, dict[str, Any]], None] | None = None
    patch_excludes: tuple[str, ...] = ()
    # Bulk deletes (optional): deletes loaded records together with the effects of
    # ``delete`` on each, the caller having checked scope, role and versions; unflushed.
    delete_many: Callable[[Ctx, list], None] | None = None
    # Many records at once by id, as ``read`` gives them (optional; pulls load ORM objects
    # and call ``read`` without it).
    read_many: Callable[[Ctx, list[str]], dict[str, Snapshot]] | None = None


# In registration order, which is dependency order (households before the people in them):
# a batch creates in this order and deletes in the reverse.
_entities: dict[str, SyncEntity] = {}


def register(entity: SyncEntity) -> SyncEntity:
    _entities[entity.name] = entity
    return entity


def entities() -> list[SyncEntity]:
    _load_builtin()
    return list(_entities.values())


def get(name: str) -> SyncEntity | None:
    _load_builtin()
    return _entities.get(name)


def by_table(table: str) -> SyncEntity | None:
    _load_builtin()
    return next((e for e in _entities.values() if e.table == table), None)


def by_model(model: type) -> SyncEntity | None:
    return next((e for e in _entities.values() if e.model is model), None)


def _load_builtin() -> None:
    # The registry's own record types register on import; later packages (ledger entries,
    # reports) import sync.registry and call register() themselves.
    import sync.entities  # noqa: F401

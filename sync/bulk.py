"""Write a push's plain new and edited records with one statement per shape, not per row.

The ORM's unit of work costs a fifth of a millisecond per record, mostly bookkeeping, and
its versioned UPDATEs go one row at a time. A nightly sync of a thousand residents is
mostly records with nothing but their own columns to write, so those are written here with
executemany; a record with child rows (a resident's tag rows) is left to the ORM flush.
Both paths log the same changes for pulls.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, bindparam, inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.base import NO_VALUE
from sqlalchemy.orm.interfaces import ONETOMANY

from sync import tracking


class Contended(Exception):
    """A versioned UPDATE found a row changed by another writer; nothing of the group stands."""


def _children(mapper) -> list[str]:
    return [r.key for r in mapper.relationships if r.direction is ONETOMANY]


def _insertable(record) -> dict[str, Any] | None:
    """A new record's column values by column name, or None when it has child rows."""
    state = inspect(record)
    values = state.dict
    if any(values.get(key) for key in _children(state.mapper)):
        return None
    return {p.columns[0].name: values[p.key] for p in state.mapper.column_attrs if p.key in values}


def _changed_columns(record) -> dict[str, Any] | None:
    """An edited record's changed columns by column name, or None when it has child rows."""
    state = inspect(record)
    mapper = state.mapper
    committed = state.committed_state
    if any(key in committed for key in _children(mapper)):
        return None
    out = {}
    for key, old in committed.items():
        prop = mapper.attrs.get(key)
        if prop is None or not hasattr(prop, "columns"):
            continue
        new = state.dict.get(key)
        if old is NO_VALUE or old != new:
            out[prop.columns[0].name] = new
    return out


def write(session: Session, created: list, edited: list) -> None:
    """Write ``created`` (transient) and ``edited`` (loaded and changed) records.

    Records this cannot write plainly are handed to the session for its flush (the caller
    flushes). Written edits leave the session with their new version set, so nothing
    writes them twice; a later mutation of one in the batch loads it afresh.
    """
    with session.no_autoflush:
        _write(session, created, edited)


def _write(session: Session, created: list, edited: list) -> None:
    connection = session.connection()
    touched: list[tracking.Touched] = []
    for model, records in _by_model(created).items():
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for record in records:
            row = _insertable(record)
            if row is None:
                session.add(record)
                continue
            shapes.setdefault(tuple(sorted(row)), []).append(row)
            touched.append(tracking.touched(record, new=True))
        table = model.__mapper__.persist_selectable
        for rows in shapes.values():
            # One shape per statement: executemany takes its columns from the first row,
            # and fills the columns no row sets with their defaults.
            connection.execute(table.insert(), rows)
    for model, records in _by_model(edited).items():
        shapes: dict[tuple[str, ...], list] = {}
        for record in records:
            columns = _changed_columns(record)
            if not columns:
                # None: the flush writes it, and the flush's hook logs it. Empty: an edit
                # that changed nothing is no new version.
                continue
            shapes.setdefault(tuple(sorted(columns)), []).append((record, columns))
        for names, group in shapes.items():
            _update(connection, model, names, group)
            for record, _ in group:
                touched.append(tracking.touched(record))
                session.expunge(record)
    tracking.log(session, [t for t in touched if t is not None])


def _by_model(records: list) -> dict[type, list]:
    out: dict[type, list] = {}
    for record in records:
        out.setdefault(type(record), []).append(record)
    return out


def _update(connection, model, names: tuple[str, ...], group: list) -> None:
    """One executemany for records changing the same columns, checked against their
    versions like the ORM's versioned UPDATE; the versions move on in memory too."""
    mapper = model.__mapper__
    table = mapper.persist_selectable
    version = mapper.version_id_col
    version_attr = mapper.get_property_by_column(version).key if version is not None else ""
    pk = mapper.primary_key[0]
    pk_attr = mapper.get_property_by_column(pk).key
    values = {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names}
    where = pk == bindparam("k_id")
    params = []
    for record, columns in group:
        row = {"k_id": getattr(record, pk_attr)}
        row.update({f"v_{name}": value for name, value in columns.items()})
        if version is not None:
            current = getattr(record, version_attr)
            row["k_version"] = current
            row["v_new_version"] = current + 1
        params.append(row)
    if version is not None:
        where = and_(where, version == bindparam("k_version"))
        values[version.name] = bindparam("v_new_version")
    result = connection.execute(update(table).where(where).values(values), params)
    if result.rowcount != len(params):
        raise Contended(f"{table.name}: {result.rowcount} of {len(params)} rows matched")
    if version is not None:
        for (record, _), row in zip(group, params, strict=True):
            setattr(record, version_attr, row["v_new_version"])

"""The rows of an export, streamed in paper-ledger order with values shown as people read them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.context import Ctx
from ledger.ledgers.entries import EntryFilter, entry_query
from ledger.ledgers.fields import PERSONAL, labels_of
from ledger.ledgers.models import LedgerEntry, LedgerTemplate
from ledger.registry.idnumber import mask_id_number, mask_phone
from ledger.registry.models import Household, Person

_MASKS = {"id_number": mask_id_number, "phone": mask_phone}
# Ledgers are read by Chinese offices: times are shown on Beijing time (no daylight saving).
CHINA = timezone(timedelta(hours=8))
BATCH = 2000


@dataclass(frozen=True)
class Column:
    """One column: a template field, or one of the bookkeeping columns around them."""

    key: str
    label: str
    type: str
    field: dict[str, Any] | None = None


META_FIRST = [Column("seq", "序号", "integer"), Column("area", "所属网格", "text")]
META_LAST = [Column("created_by", "登记人", "text"), Column("created_at", "登记时间", "datetime")]


def columns_for(fields: list[dict[str, Any]]) -> list[Column]:
    return [*META_FIRST, *(Column(f["key"], f["label"], f["type"], f) for f in fields), *META_LAST]


class Shown:
    """Turns stored values into what the exported cell holds."""

    def __init__(self, *, labels: bool, reveal: bool) -> None:
        self.labels, self.reveal = labels, reveal

    def value(self, column: Column, raw: Any, refs: dict[str, str]) -> Any:
        if raw is None or raw == "" or raw == []:
            return None
        kind = column.type
        if kind in PERSONAL:
            return raw if self.reveal else _MASKS[kind](raw)
        if kind == "date":
            return raw if isinstance(raw, date) else date.fromisoformat(raw)
        if kind == "datetime":
            return local(raw if isinstance(raw, datetime) else datetime.fromisoformat(raw))
        if kind in ("person", "household"):
            return refs.get(raw, raw) if self.labels else raw
        if kind in ("file", "photo"):
            count = len(raw) if isinstance(raw, list) else 1
            return f"{count}{'张' if kind == 'photo' else '个'}" if self.labels else count
        if kind == "location":
            return f"{raw.get('lat')},{raw.get('lng')}" if isinstance(raw, dict) else str(raw)
        if kind == "boolean":
            return ("是" if raw else "否") if self.labels else raw
        if kind in ("choice", "multichoice") and column.field is not None:
            shown = labels_of(column.field, raw) if self.labels else raw
            return "、".join(shown) if isinstance(shown, list) else shown
        if isinstance(raw, (dict, list)):
            return json.dumps(raw, ensure_ascii=False)
        return raw


def local(moment: datetime | None) -> datetime | None:
    """A naive Beijing time, as spreadsheets expect (they have no time zones)."""
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(CHINA).replace(tzinfo=None)


def count_entries(ctx: Ctx, template: LedgerTemplate, filters: EntryFilter) -> int:
    query = entry_query(ctx, template, filters)
    if query is None:
        return 0
    return ctx.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def entry_rows(
    ctx: Ctx, template: LedgerTemplate, filters: EntryFilter, columns: list[Column], shown: Shown
) -> Iterator[list[Any]]:
    """Rows oldest first by the ledger's date, then by when they were entered, streamed in
    batches so a 100,000-row export holds one batch in memory, not the ledger."""
    query = entry_query(ctx, template, filters)
    if query is None:
        return
    stmt = (
        select(
            LedgerEntry.data,
            LedgerEntry.personal_enc,
            LedgerEntry.created_at,
            Area.name,
            func.coalesce(User.display_name, User.username),
        )
        .join(Area, Area.id == LedgerEntry.area_id)
        .outerjoin(User, User.id == LedgerEntry.created_by)
        .where(query.whereclause)
        .order_by(
            LedgerEntry.entry_date.asc().nulls_first(), LedgerEntry.created_at, LedgerEntry.id
        )
        .execution_options(yield_per=BATCH)
    )
    fields = [c for c in columns if c.field is not None]
    seq = 0
    for batch in ctx.session.execute(stmt).partitions():
        refs = _references(ctx, fields, batch) if shown.labels else {}
        for data, personal_enc, created_at, area_name, creator in batch:
            values = dict(data or {})
            if personal_enc is not None:
                values.update(json.loads(ctx.pii.decrypt(personal_enc, field="ledger_entry")))
            seq += 1
            meta = {
                "seq": seq,
                "area": area_name,
                "created_by": creator,
                "created_at": local(created_at),
            }
            yield [
                meta[c.key] if c.field is None else shown.value(c, values.get(c.key), refs)
                for c in columns
            ]


def _references(ctx: Ctx, fields: list[Column], batch) -> dict[str, str]:
    """Names of the residents and households a batch refers to, in two queries."""
    wanted: dict[str, set[str]] = {"person": set(), "household": set()}
    for c in fields:
        if c.type in wanted:
            wanted[c.type].update(row[0][c.key] for row in batch if (row[0] or {}).get(c.key))
    refs: dict[str, str] = {}
    if wanted["person"]:
        people = select(Person.id, Person.name).where(Person.id.in_(wanted["person"]))
        refs.update(ctx.session.execute(people).tuples().all())
    if wanted["household"]:
        rows = ctx.session.execute(
            select(Household.id, Household.household_number, Household.address).where(
                Household.id.in_(wanted["household"])
            )
        )
        refs.update((i, number or address or i) for i, number, address in rows)
    return refs


def register_rows(
    ctx: Ctx, filters: EntryFilter, columns: list[Column], shown: Shown
) -> Iterator[list[Any]]:
    """实有人口台账 from the register itself, page by page."""
    from ledger.registry.people import PeopleFilter, list_people, person_view

    cursor, seq = None, 0
    while True:
        people, cursor = list_people(
            ctx, PeopleFilter(area=filters.area, name=filters.q), limit=500, cursor=cursor
        )
        for person in people:
            view = person_view(ctx, person, reveal=True)
            view["tags"] = "、".join(view["tags"]) or None
            seq += 1
            meta = {
                "seq": seq,
                "area": person.area.name,
                "created_by": view["created_by"],
                "created_at": local(person.created_at),
            }
            yield [
                meta[c.key] if c.field is None else shown.value(c, view.get(c.key), {})
                for c in columns
            ]
        ctx.session.expunge_all()
        if cursor is None:
            return

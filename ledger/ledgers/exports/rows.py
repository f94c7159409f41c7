"""The rows of an export, streamed in paper-ledger order with values shown as people read them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, Text, cast, func, select, type_coerce

from ledger.accounts.models import User
from ledger.areas.models import Area
from ledger.context import Ctx
from ledger.ledgers.entries import CHINA, EntryFilter, entry_query
from ledger.ledgers.fields import PERSONAL
from ledger.ledgers.models import LedgerEntry, LedgerTemplate
from ledger.registry.idnumber import MASKS
from ledger.registry.models import Household, Person

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
    """Turns stored values into what the exported cell holds. ``text_dates``: dates and
    times as text (csv, pdf) rather than date objects (xlsx date cells)."""

    def __init__(self, *, labels: bool, reveal: bool, text_dates: bool = False) -> None:
        self.labels, self.reveal, self.text_dates = labels, reveal, text_dates

    def moment(self, value: datetime | None) -> datetime | str | None:
        shown = local(value)
        # isoformat is several times faster than strftime, and this runs once per row.
        return shown.isoformat(" ", "minutes") if self.text_dates and shown else shown

    def converter(self, column: Column) -> Callable[[Any, dict[str, str]], Any]:
        """A function (stored value, reference names) → cell value, built once per column
        because it runs for every cell of the export."""
        kind, labels = column.type, self.labels
        if kind in PERSONAL:
            mask = None if self.reveal else MASKS[kind]
            return lambda raw, refs: (mask(raw) if mask else raw) if raw else None
        if kind == "date":
            if self.text_dates:
                return lambda raw, refs: raw or None  # stored as ISO text already
            return lambda raw, refs: date.fromisoformat(raw) if raw else None
        if kind == "datetime":
            return lambda raw, refs: self.moment(datetime.fromisoformat(raw)) if raw else None
        if kind in ("person", "household"):
            return lambda raw, refs: (refs.get(raw, raw) if labels else raw) if raw else None
        if kind in ("file", "photo"):
            unit = "张" if kind == "photo" else "个"

            def files(raw, refs):
                if not raw:
                    return None
                count = len(raw) if isinstance(raw, list) else 1
                return f"{count}{unit}" if labels else count

            return files
        if kind == "location":
            return lambda raw, refs: (
                (f"{raw.get('lat')},{raw.get('lng')}" if isinstance(raw, dict) else str(raw))
                if raw else None
            )  # fmt: skip
        if kind == "boolean":
            return lambda raw, refs: None if raw is None else (("是" if raw else "否") if labels
                                                               else raw)  # fmt: skip
        if kind in ("choice", "multichoice") and column.field is not None:
            names = {o["value"]: o["label"] for o in column.field.get("options", [])}

            def choice(raw, refs):
                if raw is None or raw == "" or raw == []:
                    return None
                if isinstance(raw, list):
                    return "、".join(names.get(v, v) if labels else v for v in raw)
                return names.get(raw, raw) if labels else raw

            return choice

        def plain(raw, refs):
            if raw is None or raw == "" or raw == []:
                return None
            return json.dumps(raw, ensure_ascii=False) if isinstance(raw, (dict, list)) else raw

        return plain


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
        # Raw JSON text and timestamps, decoded below with C parsers: the ORM types' own
        # processing was half the cost of a large export.
        select(
            cast(LedgerEntry.data, Text),
            LedgerEntry.personal_enc,
            type_coerce(LedgerEntry.created_at, String),
            Area.name,
            func.coalesce(User.display_name, User.username),
        )
        .join(Area, Area.id == LedgerEntry.area_id)
        .outerjoin(User, User.id == LedgerEntry.created_by)
        .where(query.whereclause)
        .order_by(LedgerEntry.entry_date, LedgerEntry.created_at, LedgerEntry.id)
        .execution_options(yield_per=BATCH)
    )
    fields = [c for c in columns if c.field is not None]
    plan = [(c.key, None if c.field is None else shown.converter(c)) for c in columns]
    seq = 0
    for batch in ctx.session.execute(stmt).partitions():
        datas = [json.loads(row[0]) if row[0] else {} for row in batch]
        refs = _references(ctx, fields, datas) if shown.labels else {}
        for values, (_, personal_enc, created_at, area_name, creator) in zip(
            datas, batch, strict=True
        ):
            if isinstance(created_at, str):  # SQLite hands back the stored UTC text
                created_at = datetime.fromisoformat(created_at).replace(tzinfo=UTC)
            if personal_enc is not None:
                personal = json.loads(ctx.pii.decrypt(personal_enc, field="ledger_entry"))
                values = {**values, **personal}
            seq += 1
            meta = {"seq": seq, "area": area_name, "created_by": creator,
                    "created_at": shown.moment(created_at)}  # fmt: skip
            yield [meta[key] if convert is None else convert(values.get(key), refs)
                   for key, convert in plan]  # fmt: skip


def _references(ctx: Ctx, fields: list[Column], datas: list[dict]) -> dict[str, str]:
    """Names of the residents and households a batch refers to, in two queries."""
    wanted: dict[str, set[str]] = {"person": set(), "household": set()}
    for c in fields:
        if c.type in wanted:
            wanted[c.type].update(d[c.key] for d in datas if d.get(c.key))
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

    plan = [(c.key, None if c.field is None else shown.converter(c)) for c in columns]
    cursor, seq = None, 0
    while True:
        people, cursor = list_people(
            ctx, PeopleFilter(area=filters.area, name=filters.q), limit=500, cursor=cursor
        )
        for person in people:
            view = person_view(ctx, person, reveal=True)
            view["tags"] = "、".join(view["tags"]) or None
            if view["birth_date"] is not None:
                view["birth_date"] = view["birth_date"].isoformat()
            seq += 1
            meta = {
                "seq": seq,
                "area": person.area.name,
                "created_by": view["created_by"],
                "created_at": shown.moment(person.created_at),
            }
            yield [meta[key] if convert is None else convert(view.get(key), {})
                   for key, convert in plan]  # fmt: skip
        ctx.session.expunge_all()
        if cursor is None:
            return

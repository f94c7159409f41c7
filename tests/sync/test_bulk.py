"""Bulk writes of a push's plain records: the same rows, versions and change log as a flush."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from ledger.areas.models import Area
from ledger.db import new_uuid
from ledger.registry import people as people_ops
from ledger.registry.models import Person, PersonTag
from sync import bulk
from sync.models import SyncChange
from tests.conftest import make_id_number
from tests.ledger.registry.test_people_ops import make_ctx, person
from tests.sync.test_tracking import meta


def logged(session, record_id):
    return session.execute(
        select(SyncChange.area_id, SyncChange.seq).where(SyncChange.record_id == record_id)
    ).all()


def fresh(session, record_id):
    return session.get(Person, record_id, populate_existing=True)


def built(ctx, name, **fields):
    record_id = new_uuid()
    data = {"name": name, "area": "G1", **fields}
    return people_ops.build_person(ctx, record_id, data)


def test_new_records_get_their_defaults_children_and_log_rows(session):
    ctx = make_ctx(session, None)
    plain = built(ctx, "周一", id_number=make_id_number(date(1981, 3, 4), "女"))
    bare = built(ctx, "周二", sex="男", notes="只有备注")  # another shape of row
    tagged = built(ctx, "周三", sex="男", tags=["独居老人", "低保"])  # has child rows
    bulk.write(session, created=[plain, bare, tagged], edited=[])
    session.flush()
    session.commit()
    session.expire_all()

    first = fresh(session, plain.id)
    assert (first.sex, first.birth_date) == ("女", date(1981, 3, 4))
    assert first.residence_type == "户籍"  # the column default
    assert first.version == 1 and first.tags == []
    assert fresh(session, bare.id).notes == "只有备注"
    third = fresh(session, tagged.id)
    assert third.tags == ["独居老人", "低保"]
    assert session.scalars(
        select(PersonTag.tag).where(PersonTag.person_id == tagged.id).order_by(PersonTag.position)
    ).all() == ["独居老人", "低保"]
    for record in (plain, bare, tagged):
        assert [area for area, _ in logged(session, record.id)] == [record.area_id]
        assert meta(session, record.id).version == 1
        assert meta(session, record.id).field_versions["name"] == 1
    seqs = sorted(seq for r in (plain, bare, tagged) for _, seq in logged(session, r.id))
    assert len(set(seqs)) == 3


def test_edits_move_the_version_once_and_log_only_what_changed(session):
    ctx = make_ctx(session, None)
    names = ("吴甲", "吴乙", "吴丙", "吴丁")
    notes, tags, same, moved = (person(ctx, name, notes="旧") for name in names)
    session.commit()
    before = {p.id: logged(session, p.id) for p in (notes, tags, same, moved)}
    records = [fresh(session, p.id) for p in (notes, tags, same, moved)]
    people_ops.patch_person(ctx, records[0], {"notes": "新"})
    people_ops.patch_person(ctx, records[1], {"tags": ["重点关注"]})  # child rows: the flush
    # records[2] is passed unchanged: a pushed edit whose values are already stored.
    people_ops.patch_person(ctx, records[3], {"area": "G2"})
    bulk.write(session, created=[], edited=records)
    session.flush()
    session.commit()
    session.expire_all()

    assert (fresh(session, notes.id).notes, fresh(session, notes.id).version) == ("新", 2)
    assert meta(session, notes.id).field_versions["notes"] == 2
    assert meta(session, notes.id).field_versions["name"] == 1
    assert fresh(session, tags.id).tags == ["重点关注"] and fresh(session, tags.id).version == 2
    assert meta(session, tags.id).field_versions["tags"] == 2
    # An edit that changes nothing is no new version and nothing for devices to pull.
    assert fresh(session, same.id).version == 1
    assert logged(session, same.id) == before[same.id]
    # A move logs the grid left (devices there drop it) and the grid joined.
    g1, g2 = (session.scalar(select(Area.id).where(Area.code == c)) for c in ("G1", "G2"))
    assert {area for area, _ in logged(session, moved.id)} == {g1, g2}
    assert fresh(session, moved.id).area_id == g2
    assert min(seq for _, seq in logged(session, moved.id)) > before[moved.id][0].seq


def test_a_record_changed_by_another_writer_fails_the_whole_group(app, session):
    ctx = make_ctx(session, None)
    first, second = person(ctx, "郑一", notes="原"), person(ctx, "郑二", notes="原")
    session.commit()
    records = [fresh(session, first.id), fresh(session, second.id)]
    session.commit()  # the records stay loaded, at version 1
    other = app.extensions["wangge_sessionmaker"]()
    try:
        other.execute(
            update(Person).where(Person.id == second.id).values(notes="别人改的", version=2)
        )
        other.commit()
    finally:
        other.close()
    with pytest.raises(bulk.Contended), session.begin_nested():
        for record in records:
            people_ops.patch_person(ctx, record, {"notes": "手机改的"})
        bulk.write(session, created=[], edited=records)
    session.rollback()
    session.expire_all()
    assert fresh(session, first.id).notes == "原"
    assert fresh(session, second.id).notes == "别人改的"

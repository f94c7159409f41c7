"""Request and response schemas for reports, their timeline, departments and categories."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ledger.reports.models.report import SOURCES, URGENCIES
from ledger.reports.workflow import ACTIONS, STATES
from server.resources.common import CommaList, PageQuerySchema


class LocationSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(required=True, validate=validate.Range(min=-180, max=180))


class ContactSchema(ma.Schema):
    name = ma.fields.String(allow_none=True, validate=validate.Length(max=64))
    phone = ma.fields.String(allow_none=True, validate=validate.Length(max=32))


class ReportCreateSchema(ma.Schema):
    id = ma.fields.UUID(
        load_default=None, metadata={"description": "客户端生成的 UUID（离线上报）"}
    )
    category = ma.fields.String(required=True, metadata={"example": "event.city.garbage"})
    title = ma.fields.String(load_default=None, validate=validate.Length(max=100))
    description = ma.fields.String(load_default=None, validate=validate.Length(max=5000))
    audio_file = ma.fields.String(load_default=None, metadata={"description": "录音文件 sha256"})
    transcript = ma.fields.String(load_default=None, validate=validate.Length(max=5000),
                                  metadata={"description": "录音的语音识别原文"})  # fmt: skip
    photos = ma.fields.List(ma.fields.String(), load_default=list,
                            metadata={"description": "照片文件 sha256 列表"})  # fmt: skip
    location = ma.fields.Nested(LocationSchema, load_default=None)
    address = ma.fields.String(load_default=None, validate=validate.Length(max=200))
    area = ma.fields.String(load_default=None, metadata={"description": "网格代码；默认本人网格"})
    source = ma.fields.String(load_default=None, validate=validate.OneOf(SOURCES))
    external_id = ma.fields.String(load_default=None, validate=validate.Length(max=64),
                                   metadata={"description": "12345 工单号等"})  # fmt: skip
    urgency = ma.fields.String(load_default=None, validate=validate.OneOf(URGENCIES))
    contact = ma.fields.Nested(ContactSchema, load_default=None,
                               metadata={"description": "来电人姓名、电话（热线）"})  # fmt: skip
    reported_at = ma.fields.AwareDateTime(load_default=None)


class ReportUpdateSchema(ma.Schema):
    title = ma.fields.String(validate=validate.Length(min=1, max=100))
    description = ma.fields.String(allow_none=True, validate=validate.Length(max=5000))
    audio_file = ma.fields.String(allow_none=True)
    transcript = ma.fields.String(allow_none=True, validate=validate.Length(max=5000))
    photos = ma.fields.List(ma.fields.String())
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    address = ma.fields.String(allow_none=True, validate=validate.Length(max=200))
    urgency = ma.fields.String(validate=validate.OneOf(URGENCIES))


class ReportSchema(ma.Schema):
    id = ma.fields.String()
    category = ma.fields.String()
    category_name = ma.fields.String()
    category_path = ma.fields.String()
    title = ma.fields.String()
    description = ma.fields.String(allow_none=True)
    audio_file = ma.fields.String(allow_none=True)
    transcript = ma.fields.String(allow_none=True)
    photos = ma.fields.List(ma.fields.String())
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    address = ma.fields.String(allow_none=True)
    area = ma.fields.String()
    area_name = ma.fields.String()
    reporter = ma.fields.Dict(allow_none=True)
    contact = ma.fields.Nested(ContactSchema, allow_none=True)
    source = ma.fields.String()
    external_id = ma.fields.String(allow_none=True)
    urgency = ma.fields.String()
    state = ma.fields.String()
    state_name = ma.fields.String()
    department = ma.fields.String(allow_none=True)
    department_name = ma.fields.String(allow_none=True)
    duplicate_of = ma.fields.String(allow_none=True)
    due_at = ma.fields.AwareDateTime(allow_none=True)
    overdue = ma.fields.Boolean()
    late = ma.fields.Boolean()
    satisfied = ma.fields.Boolean(allow_none=True)
    reported_at = ma.fields.AwareDateTime()
    accepted_at = ma.fields.AwareDateTime(allow_none=True)
    dispatched_at = ma.fields.AwareDateTime(allow_none=True)
    resolved_at = ma.fields.AwareDateTime(allow_none=True)
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    version = ma.fields.Integer()
    actions = ma.fields.List(ma.fields.String(), metadata={"description": "您现在可执行的操作"})


class DuplicateSchema(ma.Schema):
    id = ma.fields.String()
    title = ma.fields.String()
    state = ma.fields.String()
    state_name = ma.fields.String()
    category = ma.fields.String()
    address = ma.fields.String(allow_none=True)
    distance_m = ma.fields.Float()
    created_at = ma.fields.AwareDateTime()


class ReportDetailSchema(ReportSchema):
    suggested_department = ma.fields.String(allow_none=True)
    possible_duplicates = ma.fields.List(ma.fields.Nested(DuplicateSchema))


class ReportQuerySchema(ma.Schema):
    reveal = ma.fields.Boolean(
        load_default=False, metadata={"description": "显示来电人完整电话（留痕）"}
    )


def _known_states(items: list[str]) -> None:
    bad = [s for s in items if s not in STATES]
    if bad:
        raise ma.ValidationError(f"未知状态：{'、'.join(bad)}")


class ReportListQuerySchema(PageQuerySchema):
    state = CommaList(validate=_known_states, metadata={"description": "状态，可用逗号分隔多个"})
    category = ma.fields.String(metadata={"description": "事件类型；大类包含其小类"})
    area = ma.fields.String(metadata={"description": "区域代码，含下级"})
    department = ma.fields.String()
    source = ma.fields.String(validate=validate.OneOf(SOURCES))
    overdue = ma.fields.Boolean()
    mine = ma.fields.Boolean(load_default=False, metadata={"description": "只看我上报的"})


class ReportPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReportSchema))
    next_cursor = ma.fields.String(allow_none=True)


class TransitionSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=validate.OneOf(list(ACTIONS)))
    comment = ma.fields.String(load_default=None, validate=validate.Length(max=2000))
    department = ma.fields.String(load_default=None)
    duplicate_of = ma.fields.String(load_default=None)
    photos = ma.fields.List(ma.fields.String(), load_default=list)
    satisfied = ma.fields.Boolean(load_default=None)
    category = ma.fields.String(load_default=None,
                                metadata={"description": "立案或派遣时更正事件类型"})  # fmt: skip


class TimelineEventSchema(ma.Schema):
    id = ma.fields.Integer()
    action = ma.fields.String()
    action_name = ma.fields.String()
    from_state = ma.fields.String(allow_none=True)
    to_state = ma.fields.String(allow_none=True)
    actor = ma.fields.Dict()
    department = ma.fields.String(allow_none=True)
    department_name = ma.fields.String(allow_none=True)
    comment = ma.fields.String(allow_none=True)
    photos = ma.fields.List(ma.fields.String())
    data = ma.fields.Dict()
    at = ma.fields.AwareDateTime()


class TimelineSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(TimelineEventSchema))


class DepartmentSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"example": "chengguan"})
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=64),
                            metadata={"example": "城管"})  # fmt: skip
    phone = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    active = ma.fields.Boolean(dump_only=True)
    version = ma.fields.Integer(dump_only=True)


class DepartmentUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=64))
    phone = ma.fields.String(allow_none=True, validate=validate.Length(max=32))
    active = ma.fields.Boolean()


class InactiveQuerySchema(ma.Schema):
    include_inactive = ma.fields.Boolean(load_default=False)


class DepartmentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(DepartmentSchema))


class CategorySchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    parent = ma.fields.String(load_default=None, allow_none=True)
    path = ma.fields.String(dump_only=True)
    leaf = ma.fields.Boolean(dump_only=True)
    department = ma.fields.String(load_default=None, allow_none=True)
    department_name = ma.fields.String(dump_only=True, allow_none=True)
    deadlines = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(),
                               metadata={"description": "各阶段时限（小时）"})  # fmt: skip
    keywords = ma.fields.List(ma.fields.String(), load_default=list)
    active = ma.fields.Boolean(dump_only=True)
    version = ma.fields.Integer(dump_only=True)


class CategoryUpdateSchema(ma.Schema):
    name = ma.fields.String(validate=validate.Length(min=1, max=64))
    department = ma.fields.String(allow_none=True)
    deadlines = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())
    keywords = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()


class CategoryListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(CategorySchema))


class RuleSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    category = ma.fields.String(load_default=None, allow_none=True,
                                metadata={"description": "小类、大类，或空表示任意"})  # fmt: skip
    area = ma.fields.String(load_default=None, allow_none=True,
                            metadata={"description": "区域代码（含下级）或空"})  # fmt: skip
    department = ma.fields.String(required=True)
    auto_dispatch = ma.fields.Boolean(load_default=False,
                                      metadata={"description": "上报即自动立案并派遣"})  # fmt: skip
    note = ma.fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


class RuleListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RuleSchema))


class StatsQuerySchema(ma.Schema):
    area = ma.fields.String(metadata={"description": "区域代码，含下级；默认您负责的全部区域"})
    day_from = ma.fields.Date(data_key="from", metadata={"description": "上报日期起（北京时间）"})
    day_to = ma.fields.Date(data_key="to", metadata={"description": "上报日期止（含当天）"})


class OverdueStatsSchema(ma.Schema):
    total = ma.fields.Integer()
    by_category = ma.fields.List(ma.fields.Dict())
    by_department = ma.fields.List(ma.fields.Dict())
    by_area = ma.fields.List(ma.fields.Dict())


class MedianStatsSchema(ma.Schema):
    overall = ma.fields.Float(allow_none=True)
    by_category = ma.fields.List(ma.fields.Dict())
    by_department = ma.fields.List(ma.fields.Dict())


class StatsSchema(ma.Schema):
    total = ma.fields.Integer()
    by_category = ma.fields.List(ma.fields.Dict(), metadata={"description": "按小类计数"})
    by_class = ma.fields.List(ma.fields.Dict(), metadata={"description": "按大类计数"})
    by_state = ma.fields.List(ma.fields.Dict())
    by_area = ma.fields.List(ma.fields.Dict())
    overdue = ma.fields.Nested(OverdueStatsSchema)
    closed = ma.fields.Integer()
    on_time_rate = ma.fields.Float(allow_none=True, metadata={"description": "按时结案率"})
    median_close_hours = ma.fields.Nested(MedianStatsSchema)
    hotspots = ma.fields.List(ma.fields.Dict(), metadata={"description": "约150米网格热点"})
    day_from = ma.fields.Date(data_key="from", allow_none=True)
    day_to = ma.fields.Date(data_key="to", allow_none=True)
    area = ma.fields.String(allow_none=True)
    generated_at = ma.fields.AwareDateTime()


class DraftTextSchema(ma.Schema):
    """JSON body of a draft from typed or already transcribed text."""

    text = ma.fields.String(required=True, validate=validate.Length(min=1, max=5000))
    lat = ma.fields.Float(load_default=None, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(load_default=None, validate=validate.Range(min=-180, max=180))
    area = ma.fields.String(load_default=None)


class DraftFormSchema(ma.Schema):
    """Form fields beside a multipart ``audio`` recording."""

    class Meta:
        unknown = ma.EXCLUDE

    lat = ma.fields.Float(load_default=None, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(load_default=None, validate=validate.Range(min=-180, max=180))
    area = ma.fields.String(load_default=None)
    keep = ma.fields.Boolean(load_default=True, metadata={"description": "保存录音（audio_file）"})


class CategorySuggestionSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    path = ma.fields.String(metadata={"example": "市容环境/暴露垃圾"})
    score = ma.fields.Float()


class PlaceSchema(ma.Schema):
    text = ma.fields.String()
    start = ma.fields.Integer()
    end = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": "address / building / intersection / place"})
    matched = ma.fields.String(allow_none=True, metadata={"description": "匹配到的本区域已知地名"})


class DraftSchema(ma.Schema):
    text = ma.fields.String()
    title = ma.fields.String()
    categories = ma.fields.List(ma.fields.Nested(CategorySuggestionSchema))
    places = ma.fields.List(ma.fields.Nested(PlaceSchema))
    urgency = ma.fields.String(metadata={"description": "high / normal / low"})
    urgency_cues = ma.fields.List(ma.fields.String())
    possible_duplicates = ma.fields.List(ma.fields.Nested(DuplicateSchema))
    area = ma.fields.String(allow_none=True)
    audio_file = ma.fields.String(allow_none=True)
    transcript = ma.fields.Dict(allow_none=True, metadata={"description": "语音识别的完整结果"})
    timing_ms = ma.fields.Dict()

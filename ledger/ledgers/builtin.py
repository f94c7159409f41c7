"""The ledgers every community office keeps, installed by ``init-db``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.context import Ctx
from ledger.ledgers.models import LedgerTemplate


def _f(key: str, label: str, kind: str = "text", *, required: bool = False,
       options: list[str] | None = None, source: str | None = None,
       help: str = "") -> dict[str, Any]:  # fmt: skip
    field: dict[str, Any] = {"key": key, "label": label, "type": kind, "required": required}
    if options:
        field["options"] = options
    if source:
        field["source"] = source
    if help:
        field["help"] = help
    return field


# The person fields of 实有人口台账 are the register's own: it is a view, not a copy.
POPULATION = [
    _f("name", "姓名", required=True),
    _f("sex", "性别", "choice", options=["男", "女"]),
    _f("ethnicity", "民族"),
    _f("birth_date", "出生日期", "date"),
    _f("id_number", "公民身份号码", "id_number"),
    _f("phone", "联系电话", "phone"),
    _f("residence_type", "人口类型", "choice", options=["户籍", "流动", "境外"]),
    _f("registered_address", "户籍地址"),
    _f("current_address", "现住地址"),
    _f("relationship_to_head", "与户主关系"),
    _f("tags", "人员标签"),
    _f("notes", "备注", "longtext"),
]

BUILTIN: list[dict[str, Any]] = [
    {
        "code": "population",
        "name": "实有人口台账",
        "kind": "registry",
        "description": "由居民信息自动生成，随登记和采集实时更新",
        "fields": POPULATION,
    },
    {
        "code": "key_groups",
        "name": "重点人群关爱台账",
        "description": "独居老人、残疾人、低保、特困、退役军人等重点人群的关爱措施与走访频次",
        "fields": [
            _f("person", "关爱对象", "person", required=True),
            _f("name", "姓名", required=True, source="person.name"),
            _f("id_number", "公民身份号码", "id_number", source="person.id_number"),
            _f("phone", "联系电话", "phone", source="person.phone"),
            _f("address", "现住地址", source="person.address"),
            _f(
                "categories",
                "人群类别",
                "multichoice",
                required=True,
                options=[
                    "独居老人",
                    "空巢老人",
                    "残疾人",
                    "低保",
                    "特困",
                    "退役军人",
                    "留守儿童",
                    "其他",
                ],
            ),
            _f("care_measures", "关爱措施", "longtext"),
            _f(
                "visit_frequency",
                "走访频次",
                "choice",
                options=["每周", "每两周", "每月", "每季度"],
            ),
            _f("guardian", "联系人/监护人"),
            _f("guardian_phone", "联系人电话", "phone"),
            _f("responsible", "责任网格员"),
            _f("last_visit_date", "最近走访日期", "date"),
            _f("notes", "备注", "longtext"),
        ],
    },
    {
        "code": "visit_log",
        "name": "走访记录台账",
        "description": "网格员入户走访的时间、对象、事由和情况",
        "fields": [
            _f("visit_date", "走访日期", "date", required=True),
            _f("person", "走访对象", "person"),
            _f("visited_name", "被走访人", required=True, source="person.name"),
            _f("address", "走访地址", source="person.address"),
            _f(
                "purpose",
                "走访事由",
                "choice",
                required=True,
                options=[
                    "日常走访",
                    "政策宣传",
                    "困难帮扶",
                    "矛盾调解",
                    "安全检查",
                    "信息采集",
                    "其他",
                ],
            ),
            _f("situation", "走访情况", "longtext", required=True, help="可语音输入"),
            _f("photos", "现场照片", "photo"),
            _f("visitor", "走访人", required=True),
            _f("follow_up", "后续跟进", "longtext"),
        ],
    },
    {
        "code": "rental_housing",
        "name": "出租房屋台账",
        "description": "出租房屋、房东、租客和安全检查情况",
        "fields": [
            _f("address", "房屋地址", required=True),
            _f("landlord", "房东", "person"),
            _f("landlord_name", "房东姓名", required=True, source="person.name"),
            _f("landlord_id_number", "房东身份证号", "id_number", source="person.id_number"),
            _f("landlord_phone", "房东电话", "phone", source="person.phone"),
            _f("tenants", "租客信息", "longtext", help="每行一人：姓名、证件号、电话"),
            _f("tenant_count", "租住人数", "integer"),
            _f("use", "出租用途", "choice", options=["居住", "经营", "仓储", "其他"]),
            _f("contract_start", "租期开始", "date"),
            _f("contract_end", "租期结束", "date"),
            _f("safety_check", "安全检查", "choice", options=["合格", "存在隐患", "未检查"]),
            _f("check_date", "检查日期", "date"),
            _f("notes", "备注", "longtext"),
        ],
    },
    {
        "code": "disputes",
        "name": "矛盾纠纷排查调处台账",
        "description": "矛盾纠纷的排查、调处和化解情况",
        "fields": [
            _f("found_date", "排查日期", "date", required=True),
            _f("parties", "当事人", "longtext", required=True),
            _f(
                "dispute_type",
                "纠纷类型",
                "choice",
                required=True,
                options=["邻里纠纷", "婚姻家庭", "物业纠纷", "劳资纠纷", "土地纠纷", "其他"],
            ),
            _f("description", "纠纷简要情况", "longtext", required=True),
            _f("mediation", "调处情况", "longtext"),
            _f(
                "status",
                "调处状态",
                "choice",
                required=True,
                options=["排查中", "调处中", "已化解", "已移交"],
            ),
            _f("mediator", "调处人"),
            _f("closed_date", "化解日期", "date"),
        ],
    },
    {
        "code": "hazards",
        "name": "安全隐患排查台账",
        "description": "安全隐患的地点、类型、整改期限和整改情况",
        "fields": [
            _f("check_date", "排查日期", "date", required=True),
            _f("place", "隐患地点", required=True),
            _f(
                "hazard_type",
                "隐患类型",
                "choice",
                required=True,
                options=["消防", "燃气", "用电", "建筑结构", "危化品", "交通", "其他"],
            ),
            _f("description", "隐患描述", "longtext", required=True),
            _f("photos", "现场照片", "photo"),
            _f("deadline", "整改期限", "date"),
            _f("responsible", "整改责任人"),
            _f(
                "rectification_status",
                "整改情况",
                "choice",
                required=True,
                options=["未整改", "整改中", "已整改"],
            ),
            _f("recheck_date", "复查日期", "date"),
        ],
    },
]


def install(ctx: Ctx) -> list[str]:
    """Add the built-in ledgers a database lacks; returns the codes added. Existing ones are
    left as they are (an office may have adapted them)."""
    from ledger.ledgers.templates import create_template

    have = set(ctx.session.scalars(select(LedgerTemplate.code)))
    added = []
    for spec in BUILTIN:
        if spec["code"] in have:
            continue
        create_template(ctx, spec, builtin=True, kind=spec.get("kind", "entries"))
        added.append(spec["code"])
    return added


def install_in(session: Session) -> list[str]:
    """``install`` for the CLI: a system context with no user."""
    from ledger.areas.scope import Scope

    return install(Ctx(session=session, actor=None, scope=Scope.everything(), pii=None))

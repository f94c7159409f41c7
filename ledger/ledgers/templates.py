"""Template operations: define ledgers, change them (each change a new version), list them."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from ledger.audit import operations as audit
from ledger.context import Ctx
from ledger.db import utcnow
from ledger.ledgers.errors import TemplateExists, TemplateInvalid, TemplateNotFound
from ledger.ledgers.fields import TYPE_LABELS, check_fields
from ledger.ledgers.models import LedgerTemplate, LedgerTemplateVersion
from ledger.registry.common import check_version

CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 60:
        raise TemplateInvalid(details={"fields": {"name": ["台账名称为必填（最多60字）"]}})
    return name.strip()


def create_template(ctx: Ctx, data: dict[str, Any], *, builtin: bool = False,
                    kind: str = "entries") -> LedgerTemplate:  # fmt: skip
    """Define a new ledger at version 1."""
    code = data.get("code")
    if not isinstance(code, str) or not CODE_RE.match(code):
        message = "编码应以小写字母开头，只含小写字母、数字和下划线（2-40个）"
        raise TemplateInvalid(details={"fields": {"code": [message]}})
    if ctx.session.scalar(select(LedgerTemplate.id).where(LedgerTemplate.code == code)):
        raise TemplateExists(details={"code": code})
    fields = check_fields(data.get("fields"))
    actor = ctx.actor.id if ctx.actor else None
    template = LedgerTemplate(
        code=code,
        name=_check_name(data.get("name")),
        description=(data.get("description") or "").strip() or None,
        kind=kind,
        version=1,
        builtin=builtin,
        created_by=actor,
    )
    template.versions.append(LedgerTemplateVersion(version=1, fields=fields, created_by=actor))
    ctx.session.add(template)
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "ledger.template_create", object_type="ledger",
                 object_id=code, details={"version": 1})  # fmt: skip
    return template


def get_template(ctx: Ctx, code: str, *, archived: bool = False) -> LedgerTemplate:
    template = ctx.session.scalar(select(LedgerTemplate).where(LedgerTemplate.code == code))
    if template is None or (template.archived and not archived):
        raise TemplateNotFound(details={"code": code})
    return template


def list_templates(ctx: Ctx, *, archived: bool = False) -> list[LedgerTemplate]:
    query = select(LedgerTemplate).order_by(LedgerTemplate.builtin.desc(), LedgerTemplate.id)
    if not archived:
        query = query.where(LedgerTemplate.archived.is_(False))
    return list(ctx.session.scalars(query))


def update_template(ctx: Ctx, code: str, data: dict[str, Any],
                    expected_version: int | None) -> LedgerTemplate:  # fmt: skip
    """Rename or re-describe a ledger, or change its fields: a field change is a new version,
    and entries made earlier keep validating against the version they were made with."""
    template = get_template(ctx, code)
    check_version(template.version, expected_version)
    if "name" in data:
        template.name = _check_name(data["name"])
    if "description" in data:
        template.description = (data["description"] or "").strip() or None
    if "fields" in data:
        fields = check_fields(data["fields"])
        if fields != template.fields_of():
            _check_kept_types(all_fields(template), fields)
            template.version += 1
            template.versions.append(
                LedgerTemplateVersion(
                    version=template.version,
                    fields=fields,
                    created_by=ctx.actor.id if ctx.actor else None,
                )
            )
    template.updated_at = utcnow()
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "ledger.template_update", object_type="ledger",
                 object_id=code, details={"version": template.version})  # fmt: skip
    return template


def _check_kept_types(old: list[dict], new: list[dict]) -> None:
    """A key keeps its type across versions: exports put every version's values of a key in
    one column, and filters compare them as one kind of value."""
    before = {f["key"]: f["type"] for f in old}
    errors = {
        f["key"]: [
            f"字段 {f['key']} 原为“{TYPE_LABELS[before[f['key']]]}”，"
            f"不能改为“{TYPE_LABELS[f['type']]}”，请换一个 key"
        ]
        for f in new
        if f["key"] in before and before[f["key"]] != f["type"]
    }
    if errors:
        raise TemplateInvalid(details={"fields": errors})


def archive_template(ctx: Ctx, code: str, expected_version: int | None) -> None:
    """Hide a ledger from lists; its entries stay, and exports of them still work."""
    template = get_template(ctx, code)
    check_version(template.version, expected_version)
    if template.builtin:
        raise TemplateInvalid("系统内置台账不能删除", code="ledgers.builtin")
    template.archived = True
    ctx.session.flush()
    audit.record(ctx.session, ctx.actor, "ledger.template_archive", object_type="ledger",
                 object_id=code)  # fmt: skip


def all_fields(template: LedgerTemplate) -> list[dict[str, Any]]:
    """Every key any version had, latest definition first: export columns across versions."""
    out: dict[str, dict[str, Any]] = {}
    for version in sorted(template.versions, key=lambda v: -v.version):
        for field in version.fields:
            out.setdefault(field["key"], field)
    current = [f["key"] for f in template.fields_of()]
    order = current + [k for k in out if k not in current]
    return [out[k] for k in order]

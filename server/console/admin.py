"""Shared pieces of the admin pages (用户 / 区域 / 台账模板): form errors and the area list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ledger.areas.models import Area
from ledger.errors import LedgerError
from server.console.forms import field_messages
from server.errors import KIND_STATUS, ApiError

# Errors a person can fix on the form they just sent; anything else is an error page.
FORM_KINDS = frozenset({"invalid", "conflict", "precondition_failed"})
# What a page catches around an operation; form_errors() says which of them it keeps.
CAUGHT = (LedgerError, ApiError)


@dataclass
class FormErrors:
    """What went wrong with a form: a summary on top and messages next to named fields."""

    status: int = 422
    message: str = ""
    fields: dict[str, list[str]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.message or self.fields)

    def of(self, name: str) -> list[str]:
        return self.fields.get(name, [])

    def add(self, name: str, message: str) -> FormErrors:
        self.fields.setdefault(name, []).append(message)
        self.message = self.message or "提交的数据有误，请按提示修改"
        return self


def form_errors(exc: Exception, by_code: dict[str, str] | None = None) -> FormErrors | None:
    """The form-level reading of a domain or API error, or None when it belongs on an error
    page (not found, forbidden). ``by_code`` puts a field-less error (a duplicate code) next
    to the field it is about."""
    if isinstance(exc, LedgerError) and exc.kind in FORM_KINDS:
        status = KIND_STATUS[exc.kind]
    elif isinstance(exc, ApiError) and exc.status == 422:
        status = exc.status
    else:
        return None
    raw = exc.details.get("fields") if isinstance(exc.details, dict) else None
    fields = field_messages(raw)
    where = (by_code or {}).get(exc.code)
    if where and not fields:
        fields[where] = [exc.message]
    return FormErrors(status, exc.message, fields)


def area_rows(areas: list[Area]) -> list[tuple[int, Area]]:
    """Areas depth first with their depth, siblings in the given (code) order: one indented
    list for the tree page and for every area select."""
    ids = {a.id for a in areas}
    children: dict[int | None, list[Area]] = defaultdict(list)
    for a in areas:
        children[a.parent_id if a.parent_id in ids else None].append(a)
    out: list[tuple[int, Area]] = []

    def walk(parent: int | None, depth: int) -> None:
        for a in children.get(parent, []):
            out.append((depth, a))
            walk(a.id, depth + 1)

    walk(None, 0)
    return out

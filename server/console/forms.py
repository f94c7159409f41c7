"""What every console form shares: per-field messages from an error, and the grids to pick."""

from __future__ import annotations

from typing import Any

from ledger.areas.models import Area
from ledger.areas.operations import visible_areas
from ledger.context import Ctx
from server.errors import translate


def _listed(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def field_messages(raw: Any) -> dict[str, list[str]]:
    """``details['fields']`` (domain or marshmallow) as Chinese messages per field; nested ones
    (a list field's {index: [messages]}) are flattened onto their field."""
    out: dict[str, list[str]] = {}
    for key, messages in translate(raw).items() if isinstance(raw, dict) else ():
        if isinstance(messages, dict):
            messages = [m for ms in messages.values() for m in _listed(ms)]
        out[str(key)] = [str(m) for m in _listed(messages)]
    return out


def visible_grids(c: Ctx) -> list[Area]:
    """Grids a record may be put in: residents and entries live in grids of the user's scope."""
    return [a for a in visible_areas(c.session, c.scope) if a.level == "grid"]

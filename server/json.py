"""JSON output: ISO 8601 times with offsets and UTF-8 Chinese left unescaped."""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask.json.provider import DefaultJSONProvider


class WanggeJSONProvider(DefaultJSONProvider):
    ensure_ascii = False

    @staticmethod
    def default(o):
        if isinstance(o, datetime):
            if o.tzinfo is None:
                o = o.replace(tzinfo=UTC)
            return o.isoformat()
        if isinstance(o, date):
            return o.isoformat()
        return DefaultJSONProvider.default(o)

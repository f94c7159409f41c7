"""Dictation to draft: from a transcript to what the report form shows for one-tap confirming:
a title, the top-3 categories, the places named, urgency and possible duplicates nearby."""

from __future__ import annotations

import time
from typing import Any

from ledger.context import Ctx
from ledger.registry.placenames import place_names
from ledger.reports.categories import path_of
from ledger.reports.draft_text import clean_title, find_places, urgency
from ledger.reports.errors import field_error
from ledger.reports.models import ReportCategory
from ledger.reports.reports import possible_duplicates, report_area
from ledger.reports.suggest import Suggester

TOP_K = 3


def draft_from_text(
    ctx: Ctx, text: str, suggester: Suggester, *, lat: float | None = None,
    lon: float | None = None, area: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The draft for ``text``. Duplicates are looked up for each suggested category, since
    the worker has not confirmed one yet."""
    started = time.perf_counter()
    text = (text or "").strip()
    if not text:
        raise field_error("text", "没有识别到内容，请重新录音或输入文字")
    area_obj = report_area(ctx, area, required=False)
    suggested = suggester.suggest(text, k=TOP_K)
    suggestions = []
    for code, score in suggested:
        c = ctx.session.get(ReportCategory, code)
        if c is not None:
            suggestions.append({"code": code, "name": c.name, "path": path_of(ctx.session, c),
                                "score": score})  # fmt: skip
    known = place_names(ctx.session, area_obj) if area_obj is not None else []
    cues = urgency(text)
    duplicates: list[dict] = []
    if lat is not None and lon is not None:
        seen = set()
        for s in suggestions:
            for d in possible_duplicates(ctx, s["code"], lat, lon):
                if d["id"] not in seen:
                    seen.add(d["id"])
                    duplicates.append(d)
        duplicates.sort(key=lambda d: d["distance_m"])
    return {
        "text": text,
        "title": clean_title(text),
        "categories": suggestions,
        "places": find_places(text, known),
        "urgency": cues["level"],
        "urgency_cues": cues["cues"],
        "possible_duplicates": duplicates,
        "area": area_obj.code if area_obj is not None else None,
        "timing_ms": {"draft": round((time.perf_counter() - started) * 1000, 1)},
    }

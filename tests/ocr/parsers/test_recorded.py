"""Parsers on recorded rapidocr lines of 40 generated documents per kind, clean and photographed.

The lines were recorded by ``tests/ocr/parsers/record.py`` (seed 7; photos cropped with their
ground-truth corners), so these tests measure the parsers and checks without running the engine.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from ocr.parsers import FIELDS, classify, extract

DATA = Path(__file__).resolve().parent / "data" / "recorded_lines.json.gz"
ID_WARNINGS = {"checksum_failed", "id_number_corrected", "id_number_missing"}
KINDS = tuple(FIELDS)

# (set, kind) -> minimum share of documents with every field exact, and of fields exact; a little
# below what the parsers reach on these recordings.
MIN_RATES = {
    ("clean", "id_card_front"): (0.95, 0.99),
    ("clean", "id_card_back"): (0.97, 0.99),
    ("clean", "household_register_home"): (0.87, 0.97),
    ("clean", "household_register_member"): (0.4, 0.95),
    ("photo", "id_card_front"): (0.76, 0.94),
    ("photo", "id_card_back"): (0.9, 0.95),
    ("photo", "household_register_home"): (0.6, 0.82),
    ("photo", "household_register_member"): (0.25, 0.9),
}


@cache
def recordings() -> dict:
    return json.loads(gzip.decompress(DATA.read_bytes()))


def _lines(entry: dict) -> list[dict]:
    return [{"text": t, "confidence": c, "box": box} for t, c, box in entry["lines"]]


@cache
def measure(subset: str, kind: str) -> dict:
    """Exact-match figures for one set and kind over its legible documents."""
    fields_ok: dict[str, int] = defaultdict(int)
    docs = all_exact = id_exact = wrong_silent = classified = 0
    for name, entry in recordings().items():
        if not name.startswith(subset + "/") or entry["type"] != kind or not entry["legible"]:
            continue
        lines = _lines(entry)
        docs += 1
        classified += classify(lines)[0] == kind
        result = extract(lines, kind, today=date.fromisoformat(entry["as_of"]))
        exact = True
        for key in FIELDS[kind]:
            same = result.fields.get(key) == entry["fields"].get(key)
            fields_ok[key] += same
            exact &= same
        all_exact += exact
        if "id_number" in FIELDS[kind]:
            truth, got = entry["fields"]["id_number"], result.fields.get("id_number")
            id_exact += got == truth
            codes = {code for code, _ in result.warnings}
            if got is not None and got != truth and not codes & ID_WARNINGS:
                wrong_silent += 1
    return {
        "docs": docs,
        "classified": classified / docs,
        "all_exact": all_exact / docs,
        "fields": sum(fields_ok.values()) / (docs * len(FIELDS[kind])),
        "per_field": {key: fields_ok[key] / docs for key in FIELDS[kind]},
        "id_exact": id_exact / docs if "id_number" in FIELDS[kind] else None,
        "wrong_silent": wrong_silent,
    }


def test_recordings_cover_forty_of_each_kind():
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for name, entry in recordings().items():
        counts[(name.split("/")[0], entry["type"])] += 1
    assert counts == {(s, k): 40 for s in ("clean", "photo") for k in KINDS}


@pytest.mark.parametrize(("subset", "kind"), sorted(MIN_RATES))
def test_exact_match_rates(subset, kind):
    figures = measure(subset, kind)
    min_all, min_fields = MIN_RATES[(subset, kind)]
    assert figures["docs"] >= 30
    assert figures["classified"] >= 0.9
    assert figures["all_exact"] >= min_all, figures
    assert figures["fields"] >= min_fields, figures


@pytest.mark.parametrize("subset", ["clean", "photo"])
@pytest.mark.parametrize("kind", ["id_card_front", "household_register_member"])
def test_no_wrong_id_number_without_a_warning(subset, kind):
    figures = measure(subset, kind)
    assert figures["wrong_silent"] == 0
    assert figures["id_exact"] >= (0.97 if subset == "clean" else 0.88)

"""The rapidocr engine on the committed ID card fixtures: text, load once, latency, threads."""

from __future__ import annotations

import pytest

from ocr.engine import get_engine, warm_up
from tests.ocr.engines import checks

# Warm latency of one 1000x631 card on the 2-core CI machine is about 1-2 s; the budget leaves
# room for a busy machine and only catches an engine that fell off a cliff.
LATENCY_BUDGET_MS = 15_000


@pytest.fixture(scope="module")
def engine():
    with checks.no_network() as attempts:
        engine = get_engine("rapidocr")
        warm_up(engine)
    assert attempts == [], "loading the OCR engine must not touch the network"
    return engine


@pytest.mark.parametrize("path", checks.ID_FRONTS, ids=lambda p: p.stem)
def test_reads_name_and_id_number(engine, path):
    fields = checks.truth(path)["fields"]
    # Upside-down photos go in as taken: the engine's 180° line classifier reads them.
    result = engine.recognize(checks.load(path))
    checks.check_result_shape(result)
    text = checks.text_of(result)
    assert fields["id_number"] in text
    assert fields["name"] in text


def test_loaded_once(engine):
    assert get_engine("rapidocr") is engine
    assert engine.name == "rapidocr" and engine.model


def test_warm_latency(engine, record_property):
    latency = checks.warm_latency_ms(engine, checks.load(checks.ID_FRONTS[0]))
    record_property("rapidocr_warm_latency_ms", round(latency, 1))
    assert latency < LATENCY_BUDGET_MS


def test_concurrent_calls_match_a_single_call(engine):
    image = checks.load(checks.ID_FRONTS[0])
    alone = checks.text_of(engine.recognize(image))
    assert checks.concurrent_texts(engine, image) == [alone, alone]

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


@pytest.mark.parametrize("path", checks.ID_FRONTS[:3], ids=lambda p: p.stem)
def test_framed_documents_detect_on_a_smaller_copy(engine, path):
    """A located card reads the same fields with detection on a copy at most 736 px long."""
    from ocr.document import locate_document, rectify

    image = checks.load(path)
    located = locate_document(image, "card")
    assert located.quad is not None
    card = rectify(image, located.quad, long_side=1000)
    framed = engine.recognize(card, framed=True)
    whole = engine.recognize(card)
    fields = checks.truth(path)["fields"]
    for result in (framed, whole):
        assert fields["id_number"] in checks.text_of(result)
        assert fields["name"] in checks.text_of(result)
    assert engine._framed.text_det.limit_side_len == 736 < engine._ocr.text_det.limit_side_len
    # The framed reader shares the loaded models: no second copy in memory.
    assert engine._framed.text_det.session is engine._ocr.text_det.session
    assert engine._framed.text_rec is engine._ocr.text_rec

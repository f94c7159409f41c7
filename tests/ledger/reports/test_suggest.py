"""Category suggestion: the keyword baseline, training on confirmed reports, the held-out
accuracy, custom category trees and awkward input."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from ledger.reports.suggest import Suggester, evaluate, load_examples, normalize
from ledger.reports.taxonomy import LEAVES, TOP, Category

DATA = Path(__file__).resolve().parents[3] / "ledger" / "reports" / "data"
LEAF_CODES = {leaf.code for leaf in LEAVES}


@pytest.fixture(scope="module")
def train() -> list[tuple[str, str]]:
    return load_examples(DATA / "train.tsv")


@pytest.fixture(scope="module")
def heldout() -> list[tuple[str, str]]:
    return load_examples(DATA / "heldout.tsv")


@pytest.fixture(scope="module")
def baseline() -> Suggester:
    return Suggester.from_taxonomy()


@pytest.fixture(scope="module")
def trained(train) -> Suggester:
    return Suggester.from_taxonomy(examples=train)


def test_data_files_cover_every_leaf_and_heldout_is_separate(train, heldout):
    assert len(train) >= 400 and len(heldout) >= 240
    for rows, least in ((train, 10), (heldout, 6)):
        per_leaf = Counter(code for code, _ in rows)
        assert set(per_leaf) == LEAF_CODES
        assert min(per_leaf.values()) >= least
        assert len({text for _, text in rows}) == len(rows)  # no duplicates
    # No held-out line shares a 12-character stretch with a training line.
    seen = {text[i : i + 12] for _, text in train for i in range(len(text) - 11)}
    shared = [t for _, t in heldout if any(t[i : i + 12] in seen for i in range(len(t) - 11))]
    assert shared == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("三号楼下的垃圾桶满溢了，没人清运", "event.city.overflow"),
        ("建设路的路灯不亮", "part.public.lamp"),
        ("楼道里有人给电动车充电", "social.hazard.ebike"),
        ("路口井盖缺失很危险", "part.public.manhole"),
        ("工地夜间施工噪音扰民", "event.construction.noise"),
        ("邻居之间为了噪音吵架", "social.dispute.neighbor"),
        ("楼道里闻到燃气泄漏的气味", "event.emergency.gas"),
        ("老板拖欠工资三个月了", "social.dispute.wages"),
        ("独居老人生活困难需要帮扶", "social.livelihood.elderly"),
        ("墙上贴满了小广告", "event.ads.flyers"),
    ],
)
def test_keyword_baseline_gets_obvious_reports_right(baseline, text, code):
    assert baseline.trained_on == 0
    assert baseline.suggest(text)[0][0] == code


def test_training_beats_the_baseline_on_heldout(baseline, trained, train, heldout):
    assert trained.trained_on == len(train)
    before = evaluate(baseline, heldout)
    after = evaluate(trained, heldout)
    assert before["n"] == after["n"] == len(heldout)
    assert after["top1"] > before["top1"] and after["top3"] > before["top3"]
    assert after["top3"] >= 0.90
    assert after["top1"] >= 0.75


def test_the_learned_model_handles_wording_no_keyword_has(baseline, trained):
    # No keyword of 围挡 (施工围挡破损) occurs; the training reports about fallen site
    # hoardings do.
    text = "在建楼盘外面那圈彩钢板被大风刮倒了好几块"
    assert trained.suggest(text)[0][0] == "event.construction.enclosure"


def test_scores_are_descending_probabilities(trained, baseline, heldout):
    for suggester in (baseline, trained):
        for _, text in heldout[::7]:
            ranked = suggester.suggest(text, k=5)
            assert 1 <= len(ranked) <= 5
            scores = [score for _, score in ranked]
            assert all(0.0 <= s <= 1.0 for s in scores)
            assert scores == sorted(scores, reverse=True)
            assert sum(scores) <= 1.0 + 1e-3
            assert {code for code, _ in ranked} <= LEAF_CODES
    everything = trained.suggest("路灯不亮", k=100)
    assert len(everything) == len(LEAVES)
    assert sum(score for _, score in everything) == pytest.approx(1.0, abs=0.01)
    assert trained.suggest("路灯不亮", k=0) == []


@pytest.mark.parametrize("text", ["", "   \n\t", "，。！？……", "12345", "hello world", "🙂🙂"])
def test_text_without_evidence_gives_no_suggestion(baseline, trained, text):
    assert baseline.suggest(text) == []
    assert trained.suggest(text) == []


def test_none_is_empty(trained):
    assert trained.suggest(None) == []  # type: ignore[arg-type]


def test_full_width_and_spacing_do_not_matter(trained):
    assert normalize("　ＬＥＤ屏  ３号楼\n") == "led屏 3号楼"
    plain = trained.suggest("幸福小区3号楼门口垃圾堆了好几天没人清运,味道很大")
    wide = trained.suggest("　幸福小区３号楼门口垃圾堆了好几天没人清运，味道很大　")
    assert plain == wide
    assert plain[0][0] in {"event.city.garbage", "event.city.overflow"}


def test_a_custom_category_tree(train):
    tree = [
        Category("road", "道路", None, None, {}),
        Category("road.snow", "道路积雪", "road", None, {}, ("积雪", "结冰", "铲雪")),
        Category("road.pothole", "路面坑洼", "road", None, {}, ("坑", "塌陷")),
        # A database row: parent_code instead of parent, keywords as a list.
        SimpleNamespace(code="pets", name="宠物扰民", parent_code="road", keywords=["狗", "遛狗"]),
        SimpleNamespace(code="old", name="已停用", parent="road", keywords=["坑"], active=False),
    ]
    suggester = Suggester.from_taxonomy(tree)
    assert set(suggester.codes) == {"road.snow", "road.pothole", "pets"}
    assert suggester.suggest("人行道上积雪结冰了，老人摔了一跤")[0][0] == "road.snow"
    assert suggester.suggest("路中间塌陷了一个大坑")[0][0] == "road.pothole"
    assert suggester.suggest("楼下有人遛狗不牵绳")[0][0] == "pets"
    assert len(suggester.suggest("路中间塌陷了一个大坑", k=10)) == 3

    # Examples for leaves outside the tree are skipped; (text, code) order works too.
    examples = [
        ("桥上一层冰，车都打滑", "road.snow"),
        ("road.snow", "下了一夜雪，学校门口没人清扫"),
        ("pets", "邻居家的大狗半夜一直叫"),
        *train[:20],
    ]
    learned = Suggester.from_taxonomy(tree, examples)
    assert learned.trained_on == 3
    assert learned.suggest("桥上有冰车打滑")[0][0] == "road.snow"


def test_top_level_only_tree_has_nothing_to_suggest():
    suggester = Suggester.from_taxonomy(TOP)
    assert suggester.codes == ()
    assert suggester.suggest("路灯不亮") == []


def test_evaluate_counts_top1_and_top3(trained):
    rows = [
        ("part.public.lamp", "建设路的路灯不亮"),
        ("event.emergency.fire", "建设路的路灯不亮"),
        ("建设路的路灯不亮", "part.public.lamp"),
    ]
    result = evaluate(trained, rows)
    assert result["n"] == 3
    assert result["top1"] == pytest.approx(2 / 3)
    assert evaluate(trained, []) == {"top1": 0.0, "top3": 0.0, "n": 0}


def test_fast_enough(train, heldout):
    started = time.perf_counter()
    suggester = Suggester.from_taxonomy(examples=train)
    assert time.perf_counter() - started < 2.0

    sentences = [(text * 3)[:50] for _, text in heldout]
    started = time.perf_counter()
    for text in sentences:
        suggester.suggest(text)
    assert (time.perf_counter() - started) / len(sentences) < 0.005

    # 5,000 examples: training sentences cut and spliced so their n-grams vary.
    rng = random.Random(7)
    big = []
    while len(big) < 5000:
        code, first = rng.choice(train)
        second = rng.choice(train)[1]
        big.append((code, first[: 1 + rng.randrange(len(first))] + second[rng.randrange(20) :]))
    started = time.perf_counter()
    assert Suggester.from_taxonomy(examples=big).trained_on == 5000
    assert time.perf_counter() - started < 2.0


def test_one_suggester_serves_many_threads(trained, heldout):
    texts = [text for _, text in heldout[:40]]
    expected = [trained.suggest(text) for text in texts]
    results: list[list] = [[] for _ in range(8)]

    def work(slot: int) -> None:
        results[slot] = [trained.suggest(text) for text in texts]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(result == expected for result in results)

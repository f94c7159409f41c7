"""Dictation text: number normalization, punctuation, simplified script, hot words, CER."""

from __future__ import annotations

import pytest

from speech.text import (
    HotwordCorrector,
    cer,
    compose,
    correct_hotwords,
    normalize_numbers,
    punctuate,
    punctuate_words,
    strip_for_cer,
    tidy,
    to_simplified,
)


@pytest.mark.parametrize(
    ("spoken", "written"),
    [
        # The examples.
        ("三号楼", "3号楼"),
        ("二零二四年三月五日", "2024年3月5日"),
        ("百分之五十", "50%"),
        ("十五分钟", "15分钟"),
        ("一心一意", "一心一意"),
        ("三里屯", "三里屯"),
        # Addresses, dates, times, measures.
        ("一栋二单元三零一室", "1栋2单元301室"),
        ("幸福里小区五号楼二单元", "幸福里小区5号楼2单元"),
        ("五月一日", "5月1日"),
        ("十二月三十一日", "12月31日"),
        ("下午三点十五分", "下午3点15分"),
        ("每天早晨七点半到九点半", "每天早晨7点半到9点半"),
        ("十一点半", "11点半"),
        ("三点五公里", "3.5公里"),
        ("百分之三点五", "3.5%"),
        ("百分之百", "100%"),
        ("四十五岁", "45岁"),
        ("三十多岁", "30多岁"),
        ("两千块钱", "2000块钱"),
        ("一百二十三", "123"),
        ("两万五", "25000"),
        ("一千万", "1000万"),
        ("一百五", "150"),
        ("零下五度", "零下5度"),
        ("第十五届", "第15届"),
        ("十分钟", "10分钟"),
        ("电话一三八零零一三八零零零", "电话13800138000"),
        ("本节目由二十六年专注", "本节目由26年专注"),
        # Left as spoken: idioms, names, vague or small counts, ordinals, "a bit".
        ("一二线城市", "一二线城市"),
        ("五六个人", "五六个人"),
        ("十几个", "十几个"),
        ("几十个", "几十个"),
        ("两个人", "两个人"),
        ("他一个人", "他一个人"),
        ("第一次", "第一次"),
        ("三个月", "三个月"),
        ("三年", "三年"),
        ("有一点儿", "有一点儿"),
        ("十分重要", "十分重要"),
        ("万一", "万一"),
        ("千万不要", "千万不要"),
        ("一一核实", "一一核实"),
        ("三心二意", "三心二意"),
        ("一五一十", "一五一十"),
        ("十万火急", "十万火急"),
        ("一千零一夜", "一千零一夜"),
        ("九九八十一难", "九九八十一难"),
        ("一日三餐", "一日三餐"),
        ("更上一层楼", "更上一层楼"),
        ("统一", "统一"),
        ("三分之一", "三分之一"),
        ("五道口", "五道口"),
        ("already 3号楼", "already 3号楼"),
    ],
)
def test_normalize_numbers(spoken, written):
    assert normalize_numbers(spoken) == written


def test_normalize_numbers_keeps_protected_names():
    # 三元 is also "3 yuan": local names that contain a number come in as hot words.
    assert normalize_numbers("去三元桥五号楼", protected=["三元桥"]) == "去三元桥5号楼"
    assert normalize_numbers("去三元五号院", protected=["三元五号院"]) == "去三元五号院"


def test_simplified_by_phrase():
    assert to_simplified("乾淨的頭髮，後來發展") == "干净的头发，后来发展"
    assert to_simplified("3号楼") == "3号楼"


def test_punctuate_converts_ascii_and_spaces():
    assert punctuate("你好 世界") == "你好，世界。"
    assert punctuate("你好,世界?") == "你好，世界？"
    assert punctuate("他来了吗") == "他来了吗？"
    assert punctuate("Wi-Fi 密码是 abc") == "Wi-Fi 密码是 abc。"
    assert punctuate("３号楼") == "3号楼。"
    assert punctuate("未完", final=False) == "未完"


def test_punctuation_from_pauses():
    words = [
        {"word": "今天", "start": 0.0, "end": 0.4},
        {"word": "走访", "start": 0.45, "end": 0.8},
        {"word": "三户", "start": 1.2, "end": 1.6},  # 0.4 s pause: comma
        {"word": "都", "start": 1.65, "end": 1.8},
        {"word": "在家", "start": 1.85, "end": 2.2},
        {"word": "明天", "start": 3.4, "end": 3.8},  # 1.2 s pause: full stop
        {"word": "还", "start": 3.85, "end": 4.0},
        {"word": "来", "start": 4.0, "end": 4.2},
        {"word": "吗", "start": 4.2, "end": 4.4},
    ]
    assert punctuate_words(words) == "今天走访，三户都在家。明天还来吗？"


def test_punctuation_from_pauses_spaces_latin_words():
    words = [
        {"word": "hello", "start": 0.0, "end": 0.3},
        {"word": "world", "start": 0.35, "end": 0.6},
        {"word": "[unk]", "start": 0.6, "end": 0.7},
    ]
    assert punctuate_words(words) == "hello world。"


def test_compose_closes_pieces_by_gap():
    pieces = [(0.0, 2.0, "今天走访了三户"), (2.3, 4.0, "都在家"), (5.5, 7.0, "明天再去二号楼")]
    text, segments, _ = compose(pieces)
    assert text == "今天走访了3户，都在家。明天再去2号楼。"
    assert [s["text"] for s in segments] == ["今天走访了3户，", "都在家。", "明天再去2号楼。"]
    assert compose([(0, 1, "  "), (1, 2, "。")]) == ("", [], [])


def test_hotwords_exact_pinyin_replaces_homophones():
    names = ["三里屯", "幸福里小区", "朝阳门"]
    assert correct_hotwords("我在三里吞附近", names) == "我在三里屯附近"
    assert correct_hotwords("去幸福丽小区五号楼", names) == "去幸福里小区五号楼"
    assert correct_hotwords("到了朝阳们", names) == "到了朝阳门"


def test_hotwords_tolerate_accent_confusions():
    names = ["长春街", "南湖社区"]
    # zh/z and an/ang, n/l: what a southern accent does to these names.
    assert correct_hotwords("住在藏村街", names) == "住在长春街"
    assert correct_hotwords("兰湖社区的居民", names) == "南湖社区的居民"


def test_hotwords_long_names_allow_one_wrong_syllable():
    corrector = HotwordCorrector(["锦绣花园小区"])
    text, fixes = corrector.correct("到锦绣花元小区")
    assert text == "到锦绣花园小区"
    # Homophones all the way through count as the name; two wrong syllables do not.
    assert corrector.correct("到锦秀花元晓区")[0] == "到锦绣花园小区"
    text, fixes = corrector.correct("到金手花船小区")
    assert fixes == [] and text == "到金手花船小区"


def test_hotwords_do_not_overreach():
    # Two-character names must sound exactly alike, so ordinary words nearby are left alone.
    assert correct_hotwords("今天去湖南出差", ["南湖"]) == "今天去湖南出差"
    assert correct_hotwords("他很擅长唱歌", ["长城"]) == "他很擅长唱歌"
    assert correct_hotwords("一切正常", []) == "一切正常"
    assert correct_hotwords("走访朝阳区", ["朝阳区", "朝阳门"]) == "走访朝阳区"


def test_tidy_pipeline_protects_hotwords_from_number_rules():
    text, fixes = tidy("我们去三元五号院看看", ["三元五号院"])
    assert text == "我们去三元五号院看看。"
    text, fixes = tidy("去三园五号院的二号楼", ["三元五号院"])
    assert text == "去三元五号院的2号楼。"
    assert fixes == [("三园五号院", "三元五号院")]


def test_cer_ignores_punctuation_spaces_and_number_style():
    assert cer("今天，三号楼。", "今天 3号楼") == 0.0
    assert strip_for_cer("二零二四年，「好」") == "2024年好"
    assert cer("一二三四", "一二三五") == pytest.approx(0.25)
    assert cer("", "") == 0.0
    assert cer("", "多余") == 1.0

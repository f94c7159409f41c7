"""Draft-report text from dictated transcripts: titles, places and urgency."""

from __future__ import annotations

import time

import pytest

from ledger.reports.draft_text import clean_title, find_places, urgency

# An area's place names as ledger.registry.placenames would list them.
KNOWN = [
    "和平街道",
    "阳光社区",
    "幸福小区",
    "幸福花园",
    "幸福家园",
    "和平里",
    "人民路",
    "建设路",
    "解放路",
    "中山路",
    "东风路",
    "新化路",
    "东城家园",
    "三里屯",
]


# ----------------------------------------------------------------------------- clean_title


@pytest.mark.parametrize(
    ("transcript", "title"),
    [
        # Run-on ASR output: fillers and the trailing request go, cut after a clause.
        (
            "喂那个幸福小区3号楼2单元门口有人乱倒垃圾堆了好几天了味道很大麻烦派人来处理一下",
            "幸福小区3号楼2单元门口有人乱倒垃圾堆了",
        ),
        # Greeting, self-introduction, request and thanks are separate clauses.
        (
            "你好，我是和平街道的网格员，人民路和建设路路口有个井盖没了，很危险，请尽快处理，谢谢",
            "人民路和建设路路口有个井盖没了",
        ),
        # The worker's own name after the self-introduction is not the title.
        (
            "我是幸福小区的网格员张三，今天巡查发现3号楼楼道里堆满了纸箱，存在火灾隐患，希望物业尽快清理。",
            "3号楼楼道里堆满了纸箱",
        ),
        # A clause that only says where joins the clause that says what.
        ("幸福小区3号楼门口，有人乱倒垃圾，堆了好几天了", "幸福小区3号楼门口有人乱倒垃圾"),
        # 巡查时发现: the place said before the pivot stays, the patrol goes.
        ("在人民路巡查时发现井盖丢了", "人民路井盖丢了"),
        (
            "居民反映和平里小区5号楼楼顶漏水已经好几个月了一直没人管",
            "和平里小区5号楼楼顶漏水已经好几个月了",
        ),
        # Fillers in the middle, a clock time at the start.
        ("就是那个嗯东风路上有一个大坑电动车骑过去很危险", "东风路上有一个大坑电动车骑过去很危险"),
        (
            "今天下午三点左右解放路一百二十三号门前有两个人打起来了",
            "解放路一百二十三号门前有两个人打起来了",
        ),
        # Too long with the street and community: they go so the problem fits.
        (
            "和平街道阳光社区幸福花园小区十二栋二单元三零一室漏水",
            "幸福花园小区十二栋二单元三零一室漏水",
        ),
        # Full-width letters and digits are normalised, the request clause dropped.
        ("ＡＢＣ大厦Ｂ座１２层电梯坏了，请派人维修。", "ABC大厦B座12层电梯坏了"),
        # ASR that spaces words out.
        ("喂 你好 幸福 小区 ３号楼 门口 有人 打架", "幸福小区3号楼门口有人打架"),
        # A request at the start keeps what is to be looked at.
        ("麻烦看一下幸福小区3号楼漏水", "幸福小区3号楼漏水"),
        ("麻烦你们赶紧派人过来看看吧，幸福小区有人打架", "幸福小区有人打架"),
        ("小区里的垃圾桶满了没人清运麻烦你们来看看谢谢啊", "小区里的垃圾桶满了没人清运"),
        ("幸福小区3号楼漏水希望尽快维修", "幸福小区3号楼漏水"),
        # Typed descriptions go through unchanged but for the final full stop.
        ("小区东门路灯不亮。", "小区东门路灯不亮"),
    ],
)
def test_title_from_transcript(transcript, title):
    assert clean_title(transcript) == title


@pytest.mark.parametrize(
    ("transcript", "max_len", "title"),
    [
        # A short limit cuts at the end of the address, not inside its name or number.
        ("和平街道阳光社区幸福花园小区十二栋二单元三零一室漏水", 10, "幸福花园小区十二栋"),
        ("今天下午三点左右解放路一百二十三号门前有两个人打起来了", 10, "解放路一百二十三号"),
        ("幸福小区3号楼门口，有人乱倒垃圾，堆了好几天了", 10, "幸福小区3号楼门口"),
        ("居民反映和平里小区5号楼楼顶漏水已经好几个月了", 12, "和平里小区5号楼楼顶漏水"),
    ],
)
def test_title_cut_at_natural_boundary(transcript, max_len, title):
    assert clean_title(transcript, max_len=max_len) == title


@pytest.mark.parametrize("chatter", ["你好", "喂喂喂", "谢谢", "麻烦派人来处理一下", "，嗯，"])
def test_title_never_empty_for_chinese(chatter):
    title = clean_title(chatter)
    assert title
    assert len(title) <= 20


def test_title_limits():
    long = "幸福小区" + "垃圾" * 40
    assert len(clean_title(long)) <= 20
    assert all(len(clean_title(long, n)) <= n for n in (1, 5, 8, 13))
    assert clean_title("") == ""
    assert clean_title("  \u3000 ") == ""
    with pytest.raises(ValueError):
        clean_title("幸福小区漏水", max_len=0)


# ----------------------------------------------------------------------------- find_places


def _brief(places):
    return [(p["text"], p["kind"], p["matched"]) for p in places]


@pytest.mark.parametrize(
    ("transcript", "known", "expected"),
    [
        (
            "喂那个幸福小区3号楼2单元门口有人乱倒垃圾堆了好几天了",
            KNOWN,
            [("幸福小区3号楼2单元", "building", "幸福小区")],
        ),
        # Chinese numerals; the ASR says 幸福花园小区 for the registered 幸福花园.
        (
            "幸福花园小区三号楼二单元楼道里堆满了杂物",
            KNOWN,
            [("幸福花园小区三号楼二单元", "building", "幸福花园")],
        ),
        ("和平里小区十二栋楼下有人摆摊", KNOWN, [("和平里小区十二栋", "building", "和平里")]),
        # A homophone (佳 for 家) and a room number.
        ("幸福佳园5栋302室漏水了楼下都淹了", KNOWN, [("幸福佳园5栋302室", "building", "幸福家园")]),
        ("在东城花园1栋楼下", KNOWN, [("东城花园1栋", "building", "东城家园")]),
        ("我在巡查时发现人民路12号门前的路灯不亮了", KNOWN, [("人民路12号", "address", "人民路")]),
        ("中关村南大街5号", [], [("中关村南大街5号", "address", None)]),
        ("人民路123弄5号", KNOWN, [("人民路123弄5号", "address", "人民路")]),
        # Intersections, with and without a conjunction, one road or two.
        ("人民路和建设路路口有个井盖没了", [], [("人民路和建设路路口", "intersection", None)]),
        (
            "嗯就是解放路与中山路交叉口的红绿灯坏了",
            KNOWN,
            [("解放路与中山路交叉口", "intersection", "解放路")],
        ),
        (
            "人民路跟建设路的十字路口有人摆摊",
            KNOWN,
            [("人民路跟建设路的十字路口", "intersection", "人民路")],
        ),
        (
            "东风路红旗路交叉口发生交通事故",
            KNOWN,
            [("东风路红旗路交叉口", "intersection", "东风路")],
        ),
        ("建设路口有车祸", KNOWN, [("建设路口", "intersection", "建设路")]),
        # Known places said without a number.
        ("在幸福小区门口有辆车一直乱停", KNOWN, [("幸福小区", "place", "幸福小区")]),
        ("和平里小区门口有人摆摊", KNOWN, [("和平里小区", "place", "和平里")]),
        ("三里屯有人打架", KNOWN, [("三里屯", "place", "三里屯")]),
        ("5月3号在新华路看到有人打架", KNOWN, [("新华路", "place", "新化路")]),
        # A whole address is one phrase, matched to its most specific known part.
        (
            "和平街道幸福小区3号楼2单元301室",
            KNOWN,
            [("和平街道幸福小区3号楼2单元301室", "building", "幸福小区")],
        ),
        ("人民路12号幸福小区3号楼", KNOWN, [("人民路12号幸福小区3号楼", "building", "幸福小区")]),
        (
            "朝阳区和平街道幸福小区3-2-301",
            [],
            [("朝阳区和平街道幸福小区3-2-301", "building", None)],
        ),
        # Fillers run into the name: a known name trims them.
        ("乱倒垃圾幸福小区3号楼", KNOWN, [("幸福小区3号楼", "building", "幸福小区")]),
        ("到了幸福小区的3号楼", [], [("幸福小区的3号楼", "building", None)]),
        # The speaker's own compound goes without saying.
        ("我们小区3栋2单元电梯坏了", [], [("3栋2单元", "building", None)]),
        ("A座1205室的空调外机掉下来了", [], [("A座1205室", "building", None)]),
        # Several places, in order.
        (
            "幸福小区3号楼有人打架，人民路和建设路路口也堵了",
            KNOWN,
            [
                ("幸福小区3号楼", "building", "幸福小区"),
                ("人民路和建设路路口", "intersection", "人民路"),
            ],
        ),
    ],
)
def test_places_in_transcript(transcript, known, expected):
    assert _brief(find_places(transcript, known)) == expected


@pytest.mark.parametrize(
    "transcript",
    [
        "5月3号下午有人在楼下吵架",  # a date, not a house number
        "电话13812345678",
        "一栋楼都停电了",  # counting buildings
        "在十字路口有人摆摊",
        "他过马路口的时候被车撞了",  # 马路 is any road
        "我们小区门口这里有垃圾",
        "",
    ],
)
def test_no_places(transcript):
    assert find_places(transcript, KNOWN) == []


def test_unknown_or_different_places_are_not_matched():
    # 人民医院 is no variant of 人民路, 建设街 no variant of 建设路, 平安小区 of nothing.
    assert find_places("人民医院门口有人晕倒", ["人民路"]) == []
    assert _brief(find_places("建设街8号", ["建设路"])) == [("建设街8号", "address", None)]
    assert _brief(find_places("平安小区2号楼", KNOWN)) == [("平安小区2号楼", "building", None)]
    # Exact wins over a near variant.
    assert _brief(find_places("新华路", ["新华街", "新华路"])) == [("新华路", "place", "新华路")]


def test_offsets_point_into_the_callers_text():
    transcript = "喂 你好 幸福 小区 ３号楼 门口 有人 打架，人民路　和　建设路 路口也堵了"
    places = find_places(transcript, KNOWN)
    assert _brief(places) == [
        ("幸福 小区 ３号楼", "building", "幸福小区"),
        ("人民路　和　建设路 路口", "intersection", "人民路"),
    ]
    for p in places:
        assert transcript[p["start"] : p["end"]] == p["text"]
    assert places[0]["end"] <= places[1]["start"]


def test_known_names_are_returned_as_given():
    places = find_places("幸福小区3号楼", [" 幸福小区 ", "幸福小区", None, "", "x"])
    assert _brief(places) == [("幸福小区3号楼", "building", "幸福小区")]
    assert find_places("幸福小区3号楼", iter(["幸福小区"]))[0]["matched"] == "幸福小区"


# ----------------------------------------------------------------------------- urgency


@pytest.mark.parametrize(
    ("transcript", "level", "cues"),
    [
        ("幸福小区3号楼起火了有人被困", "high", ["起火", "被困"]),
        ("喂你好3号楼2单元一楼冒黑烟了快来人啊", "high", ["冒黑烟"]),
        ("楼道里一股煤气味", "high", ["煤气味"]),
        ("家里水管爆了水漫了一地", "high", ["水管爆", "水漫"]),
        ("漏水很严重楼下都淹了", "high", ["淹"]),
        ("老人摔倒了起不来", "high", ["老人摔倒"]),
        ("有个孩子走失了穿红衣服", "high", ["孩子走失"]),
        ("人民路和建设路路口两个人打起来了有人拿刀", "high", ["打起来", "拿刀"]),
        ("不小心摔倒了流血了", "high", ["摔倒", "流血"]),
        ("他过马路口的时候被车撞了", "high", ["被车撞"]),
        # Negated: nothing happened, or not what the cue says.
        ("电动车电瓶冒了点火花没有起火", "normal", []),
        ("车撞到护栏了没有人受伤", "normal", []),
        ("目前还没有人员受伤", "normal", []),
        ("楼上卫生间没有漏水是楼下自己的管子", "normal", []),
        ("没有起火冒烟就是有点焦味", "normal", []),
        ("没起火，就是冒烟", "high", ["冒烟"]),
        ("不是着火是冒烟", "high", ["冒烟"]),
        # Negators that do not negate.
        ("没想到突然着火了", "high", ["着火"]),
        ("未成年人在打架", "high", ["打架"]),
        # Hazards and nouns are not emergencies.
        ("楼道堆放杂物容易引发火灾", "normal", []),
        ("电线裸露有触电危险", "normal", []),
        ("消防通道和紧急通道被车堵了", "normal", []),
        ("落水管堵了", "normal", []),
        ("厨房水龙头漏水", "normal", []),
        # Low: suggestions and questions, unless something is on fire.
        ("建议在小区门口加装路灯", "low", ["建议"]),
        ("不急有空来看看", "low", ["不急", "有空"]),
        ("咨询一下低保怎么办理", "low", ["咨询"]),
        ("希望尽快处理", "normal", []),
        ("一楼有空调外机掉下来了", "high", ["掉下来"]),
        ("不急的话也可以，但是有人受伤了", "high", ["有人受伤"]),
        ("", "normal", []),
    ],
)
def test_urgency(transcript, level, cues):
    assert urgency(transcript) == {"level": level, "cues": cues}


# ----------------------------------------------------------------------------- speed


def test_fast_enough_for_every_dictation():
    # 500 known names and a 100-character transcript; the budget is 2 ms per call, the
    # bound here is loose so a busy test machine does not fail it.
    suffixes = ("小区", "路", "街", "苑", "家园")
    firsts, seconds = "东西南北中新老上下前", "山河湖海林泉城桥塔门"
    others = [f"{a}{b}{s}" for a in firsts for b in seconds for s in suffixes]
    known = (KNOWN + others)[:500]
    assert len(known) == 500
    transcript = (
        "喂那个幸福小区3号楼2单元门口有人乱倒垃圾堆了好几天了味道很大麻烦派人来处理一下，"
        "还有人民路和建设路路口有个井盖没了，没有人受伤但是很危险，幸福佳园五栋楼下也有人摆摊"
    )[:100]
    find_places(transcript, known)  # prepares the known names once
    for fn, args in (
        (find_places, (transcript, known)),
        (clean_title, (transcript,)),
        (urgency, (transcript,)),
    ):
        start = time.perf_counter()
        for _ in range(20):
            fn(*args)
        assert (time.perf_counter() - start) / 20 < 0.02, fn.__name__

"""Draft-report text from a dictated transcript: a short title, the places named, the urgency."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

__all__ = ["clean_title", "find_places", "urgency"]

# ----------------------------------------------------------------------------- normalising

# Full-width ASCII and odd spaces map one to one onto half-width, so an offset into the
# normalised text is an offset into the caller's text.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_HALF_WIDTH.update({0x3000: 0x20, 0x00A0: 0x20, 0x200B: 0x20, 0xFEFF: 0x20})
_SPACE_RE = re.compile(r"\s")
_SPACES_RE = re.compile(r"\s+")
_WIDE_RE = re.compile("[\uff01-\uff5e\u3000\u00a0\u200b\ufeff]")


def _compact(text: str) -> tuple[str, list[int] | None]:
    """Half-width text without whitespace (ASR sometimes spaces out 幸福 小区 3 号楼), and
    where each remaining character came from; None when nothing was removed."""
    s = text.translate(_HALF_WIDTH) if _WIDE_RE.search(text) else text
    if not _SPACE_RE.search(s):
        return s, None
    pos = [i for i, ch in enumerate(s) if not ch.isspace()]
    return "".join(s[i] for i in pos), pos


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


# ----------------------------------------------------------------------------- place grammar

# Suffixes that end a place name, by what the place is: a mismatch (人民路 vs 人民公园) must
# never count as a speech-recognition variant. Close to the address vocabulary of
# ledger.registry.placenames, plus the facilities people name in reports.
_SUFFIX_WORDS = {
    "compound": "小区 花园 家园 新村 新城 公寓 大厦 大楼 广场 中心 大院 苑 园 府 城 庭 居 湾 里 院"
    " 坊",
    "road": "大街 大道 胡同 路 街 巷 弄 桥",
    "admin": "社区 街道 村 镇 乡 屯 庄 营 堡 寨",
    "facility": "幼儿园 菜市场 卫生院 公园 市场 商场 超市 学校 小学 中学 医院 车站",
}
_SUFFIX_CLASS = {w: cls for cls, words in _SUFFIX_WORDS.items() for w in words.split()}
# 建设街 is not 建设路: roads only match roads of the same kind.
_SUFFIX_CLASS.update({"路": "road", "大街": "street", "街": "street", "大道": "avenue"})
_SUFFIX_CLASS.update({"胡同": "lane", "巷": "lane", "弄": "lane", "桥": "bridge"})
_ROADS = frozenset({"road", "street", "avenue", "lane", "bridge"})
_SUFFIXES = {n: frozenset(w for w in _SUFFIX_CLASS if len(w) == n) for n in (3, 2, 1)}
# Administrative units can open an address chain (朝阳区幸福小区) but are never the place meant.
_CHAIN_ONLY = frozenset("区市县省")
_SUFFIX_RE = re.compile("|".join(sorted(_SUFFIX_CLASS, key=len, reverse=True)))
# A known name plus one of these is still that place (幸福花园|小区, 和平里|小区).
_GENERIC_TAILS = ("小区", "社区", "花园", "家园", "新村", "公寓", "大厦", "街道")

# Characters and words that cannot be inside a place name, so they bound one on the left:
# fillers, particles, pronouns, prepositions, verbs of reporting.
_STOP_CHARS = frozenset(
    "在的了是个这那喂嗯啊呢吧吗呀哦哈说我你他她它们就有与跟及或被把从到往对给让叫着过还也又很看"
)
_STOP_BIGRAMS = frozenset((
    "然后", "靠近", "附近", "旁边", "对面", "门口", "发现", "反映", "垃圾", "报告", "上报", "一下",
    "麻烦", "现在", "今天", "昨天", "刚才", "刚刚", "位于", "路过", "经过", "巡查", "巡逻", "楼下",
    "楼上", "外面", "里面", "投诉", "举报", "处理",
))  # fmt: skip
_CONJ = frozenset("和与跟同及、")
_MAX_CORE = 6  # characters before the suffix; longer runs are sentence, not name
_MAX_CHAIN = 20

_CN_NUM = "零〇一二两三四五六七八九十百千幺"
_NUM = rf"(?:\d+|[{_CN_NUM}]+)"
_LABEL = rf"(?:\d+[A-Za-z]?|[A-Za-z]|[{_CN_NUM}]+)"
# The numbered part of an address: 123弄 二期 3号楼 2单元 5楼 301室, or 3-2-301.
_TAIL_RE = re.compile(
    rf"""(?:
        (?P<dash>\d+(?:-\d+){{1,2}}(?:室|号)?)
      | (?P<lane>{_NUM}弄)?
        (?P<phase>{_NUM}期)?
        (?P<bldg>{_LABEL}(?P<bunit>号楼|号院|号|栋|幢|座))?
        (?P<unit>{_NUM}单元)?
        (?P<floor>{_NUM}[楼层])?
        (?P<room>{_LABEL}[室户号]|\d{{3,4}}(?![\d号室户]))?
    )""",
    re.X,
)
_NUM_START_RE = re.compile(rf"[0-9A-Za-z{_CN_NUM}]")
_TAIL_CONNECTORS = ("的", "里面", "里", "内")
# 一栋楼 / 两栋房子 count buildings rather than number one.
_COUNTING_RE = re.compile(r"[一两几][栋幢座](?:楼|房|平房|建筑)")
_JUNCTION_RE = re.compile(
    r"(?P<road>大街|大道|胡同|路|街|巷|桥)"
    r"的?(?:十字路口|丁字路口|交叉路口|交叉口|交汇处|交界处|路口|口)(?![腔罩子袋气头])"
)
_NOT_ROAD_CORES = frozenset({"十字", "丁字", "交叉"})
# Words ending in a road suffix that name no road (过马路, 修道路).
_GENERIC_ROADS = frozenset({"马路", "道路", "铁路", "走路", "过路", "修路", "上路", "一路", "小路"})

_KIND_ORDER = {"intersection": 0, "building": 1, "address": 2, "place": 3}

# Characters speech recognition confuses in place names because they sound alike (幸福佳园
# for 幸福家园); the fuzzy pass reads each group as its first character. Groups holding a
# suffix character use it as the representative so suffixes still split off.
_SOUND_GROUPS = (
    "家佳嘉", "园苑源元圆", "新欣鑫馨心", "花华桦化", "城成诚", "庭亭廷", "福富", "金今锦", "龙隆",
    "泰太", "盛胜圣", "和合禾河荷", "丰峰枫风锋", "汇惠慧会", "秀绣", "雅亚", "翠萃", "祥翔",
    "瑞睿", "东冬", "阳洋扬杨", "明铭名", "鸿宏红洪", "怡宜",
)  # fmt: skip
_SOUND = str.maketrans({ch: group[0] for group in _SOUND_GROUPS for ch in group[1:]})


def _suffix_len(s: str, end: int, *, chain: bool = False) -> int:
    """Length of the place suffix that ends at ``end`` (0 when none)."""
    if end >= 3 and s[end - 3 : end] in _SUFFIXES[3]:
        return 3
    if end >= 2 and s[end - 2 : end] in _SUFFIXES[2]:
        return 2
    if end >= 1 and s[end - 1] in _SUFFIXES[1]:
        # 小区里: a locative after a name, not a name of its own.
        return 0 if s[end - 1] == "里" and _suffix_len(s, end - 1) else 1
    if chain and end >= 1 and s[end - 1] in _CHAIN_ONLY:
        return 1
    return 0


def _scan_core(s: str, core_end: int) -> int:
    """Left edge of the name core that ends at ``core_end``. ASR text has no word breaks, so
    walk left until a character that cannot be in a name, or a complete name before it."""
    i = core_end
    while i > 0 and core_end - i < _MAX_CORE:
        ch = s[i - 1]
        if not _is_cjk(ch) or ch in _STOP_CHARS or s[max(0, i - 2) : i] in _STOP_BIGRAMS:
            break
        if core_end - i >= 2:
            # Two characters make a name; what ends before them is another name (和平街道|幸福
            # 小区) or the first road of a pair (人民路和|建设路).
            if _suffix_len(s, i, chain=True):
                break
            if ch in _CONJ and _suffix_len(s, i - 1):
                break
        i -= 1
    return i


class _Seg(NamedTuple):
    start: int
    end: int
    cls: str | None  # suffix class, None for a known name without one
    known: int  # index of the known name this segment is, or -1


class _Known:
    """Known names prepared once per list: normalised, split into core and suffix, and an
    index from core characters to names for the fuzzy pass."""

    def __init__(self, names: tuple[str, ...]):
        raw = [name for name in names if isinstance(name, str) and "\0" not in name]
        # Whole-list string operations: per-name calls would cost more than the matching.
        joined = "\0".join(raw)
        if _WIDE_RE.search(joined):
            joined = joined.translate(_HALF_WIDTH)
        if _SPACE_RE.search(joined):
            joined = _SPACES_RE.sub("", joined)
        first: dict[str, int] = {}
        for i, name in enumerate(joined.split("\0")):
            if len(name) >= 2 and name not in first:
                first[name] = i
        self.names = list(first)  # compact, for exact search
        self.original = [raw[i].strip() for i in first.values()]
        # Read through _SOUND for the fuzzy pass.
        self.sounds = "\0".join(self.names).translate(_SOUND).split("\0")
        split = [_core(sound) for sound in self.sounds]
        self.cores = [core for core, _ in split]
        self.classes = [cls for _, cls in split]
        by_char: dict[str, list[int]] = {}
        for k, core in enumerate(self.cores):
            for ch in set(core):
                by_char.setdefault(ch, []).append(k)
        self.by_char = by_char

    def occurrences(self, s: str) -> dict[int, list[tuple[int, int]]]:
        """Every place a known name occurs in ``s``, keyed by where it ends."""
        found: dict[int, list[tuple[int, int]]] = {}
        for k, name in enumerate(self.names):
            i = s.find(name)
            while i >= 0:
                found.setdefault(i + len(name), []).append((i, k))
                i = s.find(name, i + 1)
        return found


@lru_cache(maxsize=32)
def _known_index(names: tuple[str, ...]) -> _Known:
    # Callers pass the same area list for every dictation; preparing it once keeps calls cheap.
    return _Known(names)


def _core(name: str) -> tuple[str, str | None]:
    """Name without its generic suffixes (幸福花园小区 → 幸福) and the outermost suffix's class."""
    n = _suffix_len(name, len(name))
    cls = _SUFFIX_CLASS[name[-n:]] if n else None
    core = name
    while n and len(core) - n >= 2:
        core = core[:-n]
        n = _suffix_len(core, len(core))
    return core, cls


def _class_factor(a: str | None, b: str | None) -> float:
    if a == b:
        return 1.0
    if a in _ROADS or b in _ROADS or "facility" in (a, b):
        return 0.0  # 人民路 is not 人民公园, whatever the ASR heard
    if a is None or b is None:
        return 0.9
    return 0.8  # compound vs community: communities are often named after their compound


def _overlap(a: str, b: str) -> int:
    rest = list(b)
    n = 0
    for ch in a:
        if ch in rest:
            rest.remove(ch)
            n += 1
    return n


def _prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


_FUZZY_THRESHOLD = 0.6


def _fuzzy(s: str, seg: _Seg, known: _Known) -> tuple[int, float, int] | None:
    """Best known name for a segment no known name spells out: (index, score, start)."""
    name = s[seg.start : seg.end].translate(_SOUND)
    core, cls = _core(name)
    counts: dict[int, int] = {}
    for ch in set(core[-_MAX_CORE - 2 :]):
        for k in known.by_char.get(ch, ()):
            counts[k] = counts.get(k, 0) + 1
    best: tuple | None = None
    for k, shared in counts.items():
        if shared < 2:
            continue
        factor = _class_factor(cls, known.classes[k])
        if not factor:
            continue
        kcore = known.cores[k]
        # The right end of a transcript name is reliable (its suffix), the left end is not
        # (fillers run into it), so compare windows aligned on the right.
        for width in sorted({min(len(core), max(2, len(kcore) + d)) for d in (-1, 0, 1)}):
            window = core[-width:]
            shared_chars = _overlap(window, kcore)
            if shared_chars < 2 or (window[0] != kcore[0] and window[-1] != kcore[-1]):
                continue
            score = 2 * shared_chars / (width + len(kcore)) * factor
            if score < _FUZZY_THRESHOLD:
                continue
            start = seg.start + len(core) - width
            whole = _overlap(name[start - seg.start :], known.sounds[k])
            key = (score, whole, _prefix(window, kcore), -k)
            if best is None or key > best[0]:
                best = (key, k, score, start)
    if best is None:
        return None
    return best[1], best[2], best[3]


class _Ctx:
    def __init__(self, s: str, known: _Known | None):
        self.s = s
        self.known = known
        self.occ = known.occurrences(s) if known else {}

    def segment(self, end: int, *, chain: bool) -> _Seg | None:
        s = self.s
        n = _suffix_len(s, end, chain=chain)
        cls = _SUFFIX_CLASS.get(s[end - n : end], "admin") if n else None
        # A known name fixes the left edge, even across a character that bounds a guess.
        for stop in (end, end - n) if n else (end,):
            hits = self.occ.get(stop)
            if hits:
                i, k = min(hits)
                return _Seg(i, end, self.known.classes[k] if stop == end else cls, k)
        if not n or s[max(0, end - 2) : end] in _GENERIC_ROADS:
            return None
        start = _scan_core(s, end - n)
        if end - n - start < 2:
            return None
        return _Seg(start, end, cls, -1)

    def name_before(self, end: int) -> list[_Seg] | None:
        """The place name ending at ``end``, as its chain of segments (和平街道|幸福小区)."""
        seg = self.segment(end, chain=False)
        if seg is None:
            return None
        segs = [seg]
        while end - segs[0].start < _MAX_CHAIN:
            prev = self.segment(segs[0].start, chain=True)
            if prev is None:
                break
            segs.insert(0, prev)
        return segs

    def match(self, segs: list[_Seg]) -> tuple[int | None, float, int]:
        """(known index or None, score, start): a known segment first, the most specific (last)
        one winning; otherwise the best fuzzy match, which may trim fillers off the start."""
        for seg in reversed(segs):
            if seg.known >= 0:
                return seg.known, 2.0, segs[0].start
        if self.known is None:
            return None, 0.0, segs[0].start
        for seg in reversed(segs):
            hit = _fuzzy(self.s, seg, self.known)
            if hit is not None:
                k, score, start = hit
                return k, score, start if seg is segs[0] else segs[0].start
        return None, 0.0, segs[0].start


class _Cand(NamedTuple):
    start: int
    end: int
    kind: str
    known: int | None
    score: float
    name_end: int  # end of the named part; the numbered part after it may be cut at units


def _detect(s: str, known: _Known | None, *, loose: bool = False) -> list[_Cand]:
    """Address phrases in compact text, in order, without overlaps. ``loose`` also keeps
    unnumbered names that match nothing known (for titles, which have no known list)."""
    ctx = _Ctx(s, known)
    cands: list[_Cand] = []

    pos = 0
    while (m := _NUM_START_RE.search(s, pos)) is not None:
        t = _TAIL_RE.match(s, m.start())
        if t is None or t.end() == t.start():
            pos = m.end()
            continue
        t0, t1 = t.span()
        pos = t1
        unit = t["bunit"]
        building = bool(
            t["dash"] or t["phase"] or t["unit"] or t["floor"] or t["room"]
        ) or unit in ("号楼", "栋", "幢", "座")
        segs = ctx.name_before(t0)
        if segs is None:
            for conn in _TAIL_CONNECTORS:
                if s.startswith(conn, t0 - len(conn)) and t0 > len(conn):
                    segs = ctx.name_before(t0 - len(conn))
                    if segs:
                        break
        if segs:
            k, score, start = ctx.match(segs)
            kind = "building" if building or segs[-1].cls in ("compound", "facility") else "address"
            cands.append(_Cand(start, t1, kind, k, score, segs[-1].end))
        elif (
            (unit in ("号楼", "栋", "幢", "座") or t["unit"])
            and not t["dash"]
            and not _COUNTING_RE.match(s, t0)
        ):
            # A bare 3号楼2单元: the speaker's own compound goes without saying.
            cands.append(_Cand(t0, t1, "building", None, 0.0, t0))

    for m in _JUNCTION_RE.finditer(s):
        road_end = m.end("road")
        segs = ctx.name_before(road_end)
        if not segs or s[segs[-1].start : road_end - 1] in _NOT_ROAD_CORES:
            continue
        start = segs[0].start
        if start > 1 and s[start - 1] in _CONJ:
            first = ctx.name_before(start - 1)
            if first and first[-1].cls in _ROADS:
                segs = first + segs
                start = first[0].start
        # Either road may be the known one; the first said wins a tie.
        best: tuple[int | None, float, int] = (None, 0.0, start)
        for i, seg in enumerate(segs):
            k, score, road_start = ctx.match([seg])
            if k is not None and score > best[1]:
                best = (k, score, road_start if i == 0 else start)
        cands.append(_Cand(best[2], m.end(), "intersection", best[0], best[1], m.end()))

    if known is not None:
        for end, hits in ctx.occ.items():
            for i, k in hits:
                stop = end
                if known.classes[k] not in _ROADS:
                    stop += next((len(w) for w in _GENERIC_TAILS if s.startswith(w, end)), 0)
                cands.append(_Cand(i, stop, "place", k, 2.0, stop))

    if known is not None or loose:
        for m in _SUFFIX_RE.finditer(s):
            segs = ctx.name_before(m.end())
            if not segs or any(seg.known >= 0 for seg in segs):
                continue  # known names were added above
            k, score, start = ctx.match(segs)
            if k is not None or loose:
                cands.append(_Cand(start, m.end(), "place", k, score, m.end()))

    return _merge(_choose(cands))


def _choose(cands: list[_Cand]) -> list[_Cand]:
    """Longest phrases first, then drop any that overlap one already taken."""
    cands.sort(key=lambda c: (c.start - c.end, _KIND_ORDER[c.kind], c.start))
    taken: list[_Cand] = []
    for c in cands:
        if all(c.end <= t.start or c.start >= t.end for t in taken):
            taken.append(c)
    taken.sort(key=lambda c: c.start)
    return taken


def _merge(cands: list[_Cand]) -> list[_Cand]:
    """Join adjacent pieces of one address (人民路12号|幸福小区3号楼): a draft wants one."""
    merged: list[_Cand] = []
    for c in cands:
        prev = merged[-1] if merged else None
        if prev is None or prev.end != c.start or "intersection" in (prev.kind, c.kind):
            merged.append(c)
            continue
        kind = min(prev.kind, c.kind, key=lambda kd: _KIND_ORDER[kd])
        known, score = (c.known, c.score) if c.known is not None else (prev.known, prev.score)
        name_end = c.name_end if c.name_end > c.start else prev.name_end
        merged[-1] = _Cand(prev.start, c.end, kind, known, score, name_end)
    return merged


def find_places(text: str, known: Iterable[str] = ()) -> list[dict]:
    """Address phrases in a transcript, in order and without overlaps (the longest wins).

    Each is ``{"text", "start", "end", "kind", "matched"}``: ``text == text[start:end]`` of the
    caller's string; ``kind`` is "address" (人民路12号), "building" (幸福小区3号楼2单元,
    3栋), "intersection" (人民路和建设路路口) or "place" (a known name said without a
    number); ``matched`` is the known name meant, tolerating ASR variants (幸福花园小区 →
    幸福花园, 幸福佳园 → 幸福家园), or None.
    """
    if not text:
        return []
    s, pos = _compact(text)
    names = tuple(known) if not isinstance(known, tuple) else known
    index = _known_index(names) if names else None
    if index is not None and not index.names:
        index = None
    out = []
    for c in _detect(s, index):
        start = pos[c.start] if pos else c.start
        end = pos[c.end - 1] + 1 if pos else c.end
        out.append(
            {
                "text": text[start:end],
                "start": start,
                "end": end,
                "kind": c.kind,
                "matched": index.original[c.known] if index and c.known is not None else None,
            }
        )
    return out


# ----------------------------------------------------------------------------- urgency

_HIGH_CUES = (
    "起火", "着火", "失火", "火灾", "冒烟", "冒黑烟", "浓烟", "烧起来", "火苗", "明火", "爆炸",
    "漏气", "燃气泄漏", "燃气泄露", "煤气泄漏", "煤气泄露", "天然气泄漏", "天然气泄露", "煤气味",
    "燃气味", "天然气味", "液化气味", "一氧化碳", "中毒", "水漫", "漫水", "爆管", "水管爆",
    "水管爆裂", "淹", "大量漏水", "严重漏水", "漏水严重", "有人受伤", "受伤", "伤亡", "流血",
    "出血", "昏倒", "晕倒", "昏迷", "不省人事", "没有呼吸", "没呼吸", "被困", "困在电梯",
    "电梯困人", "触电", "漏电", "塌陷", "坍塌", "倒塌", "塌方", "掉下来", "坠落", "高空坠物",
    "打架", "斗殴", "打起来", "打人", "持刀", "拿刀", "砍人", "跳楼", "轻生", "自杀", "老人摔倒",
    "摔倒", "孩子走失", "小孩走失", "走失", "走丢", "溺水", "落水", "救命", "紧急", "车祸", "撞人",
    "被车撞",
)  # fmt: skip
_LOW_CUES = (
    "建议", "希望", "咨询", "有空", "不急", "不着急", "不用急", "不紧急", "不太急", "有时间",
    "方便的时候", "抽空", "问一下", "想问", "了解一下",
)  # fmt: skip
_CUE_RE = re.compile("|".join(sorted({*_HIGH_CUES, *_LOW_CUES}, key=len, reverse=True)))
_HIGH = frozenset(_HIGH_CUES)

# Negators, each with what may follow it without negating (没想到起火 did burn).
_NEGATORS = {
    "没有": ("想到", "多久", "一会", "过多久", "办法", "注意"),
    "没": ("想到", "多久", "一会", "过多久", "办法", "注意"),
    "未": ("成年", "来", "知"),
    "无": ("人机", "证", "照", "法", "故"),
    "不是": (),
    "不会": (),
    "并非": (),
    "不存在": (),
    "别": (),
    "不": ("停", "断", "少", "小心", "住", "知道", "了", "行", "得", "清", "明", "让", "到", "管"),
}
_NEGATOR_RE = re.compile("|".join(sorted(_NEGATORS, key=len, reverse=True)))
# Words that make a cue hypothetical: a fire risk is a hazard report, not a fire.
_HEDGES = (
    "防止", "预防", "以防", "以免", "避免", "谨防", "担心", "害怕", "生怕", "容易", "可能",
    "会不会", "万一", "如果", "要是",
)  # fmt: skip
_AFTER_HEDGES = ("隐患", "风险", "危险", "的可能", "演练", "宣传", "知识", "预防", "的隐患")
# What turns a cue into part of a noun: 紧急通道 is a passage, 落水管 a drainpipe.
_NOUN_AFTER = {
    "紧急": ("通道", "出口", "联系", "电话", "预案", "疏散", "避难"),
    "落水": ("管",),
    "火灾": ("报警器", "自动报警", "保险"),
    "漏电": ("保护", "开关"),
}
_CLAUSE_BREAK_RE = re.compile(r"[，。！？；,.!?;:：\n]|但是|但|可是|不过|而是|却")
_URGENT_WORDS = ("尽快", "马上", "赶紧", "立即", "立刻", "赶快", "抓紧")
_NEGATION_REACH = 5
_HEDGE_REACH = 6


def _negated(s: str, start: int, floor: int) -> bool:
    lo = max(floor, start - _HEDGE_REACH)
    window = s[lo:start]
    breaks = list(_CLAUSE_BREAK_RE.finditer(window))
    if breaks:
        lo += breaks[-1].end()
        window = s[lo:start]
    if any(h in window for h in _HEDGES):
        return True
    near = max(lo, start - _NEGATION_REACH)
    for m in _NEGATOR_RE.finditer(s, near, start):
        if not s.startswith(_NEGATORS[m.group()], m.end()):
            return True
    return False


def urgency(text: str) -> dict:
    """``{"level": "high"|"normal"|"low", "cues": [...]}`` from cue words in a transcript.

    A high cue (起火, 有人受伤, 燃气泄漏 ...) counts unless negated (没有人受伤, 没起火) or
    hypothetical (容易引发火灾, 有触电危险); any such cue wins over low cues (建议, 咨询,
    不急). ``cues`` lists the cue words that set the level, in order.
    """
    s, _ = _compact(text or "")
    high: list[str] = []
    low: list[str] = []
    floor = 0
    prev_negated = False
    prev_end = -1
    for m in _CUE_RE.finditer(s):
        cue, start, end = m.group(), m.start(), m.end()
        gap = s[prev_end:start] if prev_end >= 0 else None
        if prev_negated and gap in ("", "和", "或", "或者", "、", "及", "也"):
            negated = True  # 没有起火冒烟: one negation covers the list
        else:
            negated = (
                _negated(s, start, floor)
                or s.startswith(_AFTER_HEDGES, end)
                or s.startswith(_NOUN_AFTER.get(cue, ()), end)
            )
        # A negator before one cue must not reach past it to the next.
        floor, prev_end, prev_negated = end, end, negated
        if negated:
            continue
        if cue in _HIGH:
            high.append(cue)
        elif not any(w in s[end : end + _HEDGE_REACH] for w in _URGENT_WORDS) and not (
            cue == "有空" and s[end : end + 1] in ("调", "地", "位", "房", "车")
        ):
            # 希望尽快处理 asks for speed; 有空调 is an air conditioner.
            low.append(cue)
    if high:
        return {"level": "high", "cues": list(dict.fromkeys(high))}
    if low:
        return {"level": "low", "cues": list(dict.fromkeys(low))}
    return {"level": "normal", "cues": []}


# ----------------------------------------------------------------------------- title

_PUNCT_TO_FULL = str.maketrans({",": "，", "!": "！", "?": "？", ";": "；", "(": "（", ")": "）"})
_CLAUSE_SPLIT_RE = re.compile(r"[，。！？；…\n~]+")

_LEAD_FILLERS = (
    "喂", "喂喂", "你好", "您好", "你们好", "哈喽", "嗨", "哎", "诶", "唉", "嗯", "呃", "啊", "哦",
    "噢", "那个", "这个", "就是说", "就是", "然后", "那么", "我跟你说", "跟你说", "跟你们说",
    "我说", "是这样的", "是这样", "这样的", "我想反映一下", "我要反映一下", "我想反映", "我要反映",
    "反映一下", "反映个情况", "反映个问题", "反映一个问题", "反映一个情况", "我要上报", "上报一下",
    "报告一下", "我这边", "这边", "我们这边", "我们这里", "这里", "麻烦你们", "麻烦你", "麻烦",
    "请问", "今天早上", "今天上午", "今天中午", "今天下午", "今天晚上", "今天", "昨天晚上", "昨天",
    "昨晚", "刚才", "刚刚", "现在", "目前", "早上", "上午", "下午", "晚上", "我们在", "我在",
    "就在", "在", "位于", "一下",
)  # fmt: skip
_LEAD_RE = re.compile(
    "^(?:"
    + "|".join(sorted(_LEAD_FILLERS, key=len, reverse=True))
    # A clock time (下午三点左右) dates the report; the report form has its own time.
    + rf"|(?:凌晨|早上|上午|中午|下午|晚上)?[0-9{_CN_NUM}]+点"
    + rf"(?:[0-9{_CN_NUM}]+分|半|钟)?(?:左右|多)?"
    + ")"
)
_INNER_FILLER_RE = re.compile(r"嗯+|呃+|那个|就是说|然后")
_SELF_INTRO_RE = re.compile(
    r"^(?:我是|我这边是|我们是|这里是|这边是|本人是)[^，。！？]{0,14}?"
    r"(?:网格员|网格长|楼长|志愿者|居民|业主|住户|工作人员|物业)"
)
_PIVOT_RE = re.compile(r"发现|看到|看见|注意到|反映|举报|投诉|报告")
_PIVOT_REACH = 18
_THANKS_RE = re.compile(
    r"(?:谢谢(?:你们|您|你)?|多谢|感谢|辛苦(?:你们|您|你)?了?|麻烦(?:你们|您|你)?了)[啊呀啦了哈]*$"
)
_REQUEST_START_RE = re.compile(
    r"麻烦|(?<![申邀聘])请|希望|赶紧|赶快|尽快|快点|能不能|能否|可不可以|帮忙|帮我们|"
    r"你们(?=派|来|过来|处理|赶紧|尽快|快|去|管)|叫人|派人|过来看|来看看|来看一下|来处理"
)
_REQUEST_VERBS = (
    "处理", "解决", "派人", "来人", "过来", "来看看", "来看", "看看", "看一下", "管管", "管一下",
    "清理", "修一下", "修理", "维修", "跟进", "协调", "核实", "安排", "关注", "帮忙", "到场",
    "来一下",
)  # fmt: skip
_REQUEST_VERB_RE = re.compile("|".join(sorted(_REQUEST_VERBS, key=len, reverse=True)))
_REQUEST_PARTICLES_RE = re.compile(r"^(?:一下|吧|了|来|去|的)+")
_REQUEST_REACH = 6
_TRAILING_PARTICLES = "啊呀吧呢哈啦哦嘛噢哇"
# Words after a place that leave a clause with nothing to report (幸福小区3号楼门口).
_LOCATIVE_RE = re.compile(
    r"门口|附近|旁边|对面|楼下|楼上|楼道|这里|这边|那边|那里|里面|外面|边上|路边|[东南西北]侧|前面|"
    r"后面|这个位置|位置|处|的|在|位于|里|内"
)
_ACTIVITY_RE = re.compile(r"(?:巡查|巡逻|走访|检查|路过|经过)(?:时|中|的时候)?")
# Where a run-on transcript starts a new thought: a good place to cut a title.
_CLAUSE_WORDS = (
    "已经", "而且", "并且", "导致", "造成", "影响", "好几天", "好多天", "好几个", "很多天", "很久",
    "一直", "经常", "总是", "每天", "天天", "味道", "气味", "有人", "没人", "无人", "也没人",
    "但是", "可是", "希望", "麻烦", "请",
)  # fmt: skip
_CUT_PUNCT = "、：:（）()/"
_TRAILING_FUNCTION = "的在和与跟及有把被将很也还都就又而并"
_UNIT_END = frozenset("楼栋幢座元室层期号弄院户")


def _tidy(text: str) -> str:
    """Half-width letters and digits, full-width Chinese punctuation, no stray spaces."""
    s = text.translate(_HALF_WIDTH).translate(_PUNCT_TO_FULL)
    # A dot or colon between digits is a decimal or a time; elsewhere it ends a clause.
    s = re.sub(r"(?<!\d)[.:]|[.:](?!\d)", lambda m: "。" if m.group() == "." else "：", s)
    # Spaces only separate Latin words; between Chinese they are ASR pauses.
    return re.sub(
        r"\s+",
        lambda m: (
            " "
            if m.start() > 0
            and m.end() < len(s)
            and s[m.start() - 1].isascii()
            and s[m.start() - 1].isalnum()
            and s[m.end()].isascii()
            and s[m.end()].isalnum()
            else ""
        ),
        s,
    ).strip()


def _strip_lead(c: str) -> str:
    while True:
        m = _LEAD_RE.match(c)
        stripped = (c[m.end() :] if m else c).lstrip("、：，。 ")
        if stripped == c:
            return c
        c = stripped


def _location_of(c: str) -> str:
    """The place phrases of a clause with the locatives after them (幸福小区3号楼门口)."""
    places = _detect(c, None, loose=True)
    if not places:
        return ""
    end = places[-1].end
    while (m := _LOCATIVE_RE.match(c, end)) and m.group() not in ("的", "在", "位于", "处"):
        end = m.end()
    return c[places[0].start : end]


def _clean_clause(c: str) -> str:
    intro = _SELF_INTRO_RE.match(c)
    if intro:
        c = c[intro.end() :]
        if len(c) <= 3:
            return ""  # the speaker's own name (我是网格员张三)
    c = _drop_requests(_INNER_FILLER_RE.sub("", c))
    c = _strip_lead(c)
    pivot = _PIVOT_RE.search(c, 0, _PIVOT_REACH)
    if pivot and len(c) - pivot.end() >= 2:
        # 巡查时发现… / 居民反映…: what follows is the report; keep a place said before it.
        c = _location_of(c[: pivot.start()]) + c[pivot.end() :]
    return _strip_lead(c).strip("、：， ")


def _drop_requests(c: str) -> str:
    """Without thanks and requests: 麻烦派人来处理一下 at the end goes, and so does 麻烦看一下
    at the start, keeping what is to be looked at."""
    while True:
        before = c
        c = _THANKS_RE.sub("", c).rstrip(_TRAILING_PARTICLES)
        for m in _REQUEST_START_RE.finditer(c):
            if _strip_lead(c[: m.start()]):
                if _REQUEST_VERB_RE.search(c, m.start()):
                    c = c[: m.start()]
                    break
                continue
            # Leading request: it ends with its run of verbs (派人来处理一下); a verb far
            # from the start belongs to the report (麻烦你们幸福小区…来看看).
            verb = _REQUEST_VERB_RE.search(c, m.start(), m.end() + _REQUEST_REACH)
            if verb is None:
                continue
            end = verb.end()
            while (more := _REQUEST_VERB_RE.search(c, end)) and more.start() - end <= 1:
                end = more.end()
            rest = _REQUEST_PARTICLES_RE.sub("", c[end:])
            c = rest if len(rest) >= 4 else ""
            break
        if c == before:
            return c


def _location_only(c: str) -> bool:
    rest = c
    for cand in reversed(_detect(c, None, loose=True)):
        rest = rest[: cand.start] + rest[cand.end :]
    if rest == c:
        return False
    rest = _ACTIVITY_RE.sub("", _LOCATIVE_RE.sub("", rest))
    return sum(_is_cjk(ch) for ch in rest) < 2


def _cut(t: str, max_len: int) -> str:
    """At most ``max_len`` characters, cut where the sentence allows: punctuation, then a new
    thought, then anywhere that is not inside a place name or a number."""
    if len(t) <= max_len:
        return t
    protected = [(c.start, c.name_end, c.end) for c in _detect(t, None, loose=True)]

    def allowed(p: int) -> bool:
        for start, name_end, end in protected:
            if start < p < name_end:
                return False
            if name_end <= p < end and not (
                t[p - 1] in _UNIT_END and not (t[p - 1] == "号" and t[p] in "楼院")
            ):
                return False
        a, b = t[p - 1], t[p]
        return not (
            (a.isascii() and a.isalnum() and b.isascii() and b.isalnum())
            or (a.isdigit() and b in "号楼栋幢座单元室层期")
        )

    def tier(p: int) -> int:
        if not allowed(p):
            return 0
        if t[p] in _CUT_PUNCT:
            return 3
        if (
            t.startswith(_CLAUSE_WORDS, p)
            or (t[p - 1] == "了" and t[p] != "了")
            or any(p == end for _, _, end in protected)
        ):
            return 2
        return 1

    tiers = {p: tier(p) for p in range(2, max_len + 1)}
    for floor in (max(2, max_len // 2), 2):
        for want in (3, 2, 1):
            fits = [p for p, tr in tiers.items() if tr == want and p >= floor]
            if fits:
                return _trim_end(t[: max(fits)])
    return _trim_end(t[:max_len])


def _shorten_places(t: str) -> str:
    """Drop the street and community said before a compound (和平街道阳光社区|幸福花园小区…):
    the report's area already names them, and the problem has to fit in the title."""
    ctx = _Ctx(t, None)
    parts, last = [], 0
    for c in _detect(t, None, loose=True):
        segs = ctx.name_before(c.name_end) if c.name_end > c.start else None
        if not segs or segs[0].start < c.start:
            continue
        i = 0
        while i < len(segs) - 1 and segs[i].cls == "admin":
            i += 1
        parts.append(t[last : segs[0].start])
        last = segs[i].start
    parts.append(t[last:])
    return "".join(parts)


def _trim_end(t: str) -> str:
    t = t.rstrip("、：:（(/ ")
    while len(t) > 2 and t[-1] in _TRAILING_FUNCTION:
        t = t[:-1]
    return t


def clean_title(text: str, max_len: int = 20) -> str:
    """A short title from a dictated report: fillers, greetings, self-introductions and
    requests dropped (喂 那个… 麻烦派人来处理一下), the first clause that carries the problem
    kept (with the place clause before it), cut at a natural boundary within ``max_len``.
    Never empty when the text has Chinese in it."""
    if max_len < 1:
        raise ValueError("max_len must be positive")
    tidy = _tidy(text or "")
    clauses = [c for c in (_clean_clause(c) for c in _CLAUSE_SPLIT_RE.split(tidy)) if c]
    title = ""
    for i, c in enumerate(clauses):
        if sum(_is_cjk(ch) for ch in c) < 2 and not any(ch.isalnum() for ch in c):
            continue
        if _location_only(c) and i + 1 < len(clauses):
            title = _ACTIVITY_RE.sub("", c) + clauses[i + 1]
        else:
            title = c
        break
    if not title:
        # Nothing but chatter: better the raw words than an empty title.
        title = next((c for c in _CLAUSE_SPLIT_RE.split(tidy) if c.strip()), "")
    if len(title) > max_len:
        title = _shorten_places(title)
    return _cut(title, max_len).strip() or title[:max_len].strip()

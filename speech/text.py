"""Dictation text clean-up: simplified script, punctuation, number normalization, hot words."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "PROTECTED_WORDS",
    "HotwordCorrector",
    "cer",
    "cer_counts",
    "compose",
    "correct_hotwords",
    "join_words",
    "normalize_numbers",
    "punctuate",
    "punctuate_words",
    "strip_for_cer",
    "tidy",
    "to_simplified",
]

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")

# --------------------------------------------------------------------------- simplified script

_converter = None
_converter_lock = threading.Lock()


def _opencc():
    """The process-wide OpenCC t2s converter (the package the OCR code uses), or False."""
    global _converter
    if _converter is None:
        with _converter_lock:
            if _converter is None:
                try:
                    import opencc
                except ImportError:
                    _converter = False
                else:
                    _converter = opencc.OpenCC("t2s")
    return _converter


def to_simplified(s: str) -> str:
    """Traditional to simplified Chinese by phrase (乾淨 → 干净); unchanged without OpenCC."""
    if not s or s.isascii():
        return s
    converter = _opencc()
    return converter.convert(s) if converter else s


# --------------------------------------------------------------------------- punctuation

# Full-width digits, letters and % read better as ASCII next to Chinese (３号楼 → 3号楼).
_HALFWIDTH = {cp: cp - 0xFEE0 for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B))}
_HALFWIDTH |= {cp: cp - 0xFEE0 for cp in range(0xFF41, 0xFF5B)} | {0xFF05: 0x25, 0x3000: 0x20}
_FULLWIDTH_PUNCT = {",": "，", "?": "？", "!": "！", ":": "：", ";": "；", ".": "。"}
_ASCII_PUNCT_NEAR_CJK = re.compile(rf"(?<=[{_CJK}])\s*([,?!:;.])\s*|\s*([,?!:;])(?=[{_CJK}])")
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")
_REPEATED_PUNCT = re.compile(r"([，。？！、；：])[，。？！、；：]+")
_TERMINAL = "。？！"
_PUNCT = "，。？！、；：,.?!;:…“”\"'‘’（）()《》〈〉【】[]「」『』—-~～·"
# Sentence-final particles that make a question.
_QUESTION_END = ("吗", "么")


def _ascii_to_fullwidth(m: re.Match) -> str:
    return _FULLWIDTH_PUNCT[m.group(1) or m.group(2)]


def punctuate(s: str, *, final: bool = True) -> str:
    """Chinese punctuation: ASCII marks beside Chinese become full-width, spaces become ，.

    ``final`` closes the text with 。 (or ？ after 吗) when it has no closing mark.
    """
    s = s.translate(_HALFWIDTH).strip()
    if not s:
        return s
    s = _ASCII_PUNCT_NEAR_CJK.sub(_ascii_to_fullwidth, s)
    # Whisper separates clauses of Chinese with a space where a comma belongs.
    s = _SPACE_BETWEEN_CJK.sub("，", s)
    s = _SPACES.sub(" ", s)
    s = _REPEATED_PUNCT.sub(r"\1", s)
    s = s.lstrip("，。、；：")
    if final and s:
        s = s.rstrip("，、；：,;: ")
        if s and s[-1] not in _TERMINAL and s[-1] not in "”」』）)":
            s += "？" if s.endswith(_QUESTION_END) else "。"
    return s


def join_words(words: Iterable[str]) -> str:
    """Join recogniser words: no space between Chinese words, one between Latin ones."""
    out = ""
    for w in words:
        w = w.strip()
        if not w:
            continue
        if out and not (_CJK_RE.match(w[0]) or _CJK_RE.match(out[-1])):
            out += " "
        out += w
    return out


def punctuate_words(
    words: Sequence[dict],
    *,
    comma_gap: float = 0.3,
    period_gap: float = 0.9,
    long_sentence: int = 40,
    final: bool = True,
) -> str:
    """Text from timed words ({word, start, end}), with ，and 。 derived from the pauses.

    Speakers pause about a third of a second between clauses and most of a second between
    sentences; a sentence already longer than ``long_sentence`` characters also ends at a
    half-second pause so dictation does not run on as one comma chain.
    """
    out = ""
    sentence_len = 0
    prev_end = None
    for w in words:
        text = str(w.get("word", "")).strip()
        if not text or text in ("[unk]", "<unk>"):
            continue
        if prev_end is not None:
            gap = float(w["start"]) - prev_end
            if gap >= period_gap or (gap >= 0.5 and sentence_len >= long_sentence):
                out += "？" if out.endswith(_QUESTION_END) else "。"
                sentence_len = 0
            elif gap >= comma_gap:
                out += "，"
        out = join_words([out, text]) if out and out[-1] not in "，。？" else out + text
        sentence_len += len(text)
        prev_end = float(w["end"])
    return punctuate(out, final=final) if out else ""


# --------------------------------------------------------------------------- numbers

_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "幺": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUM_CHARS = "零〇一幺二两三四五六七八九十百千万亿"


def _words(text: str) -> tuple[str, ...]:
    # Word lists are kept as space-separated text: easier to read and extend than tuples.
    return tuple(text.split())


_NUMBER = re.compile(f"[{_NUM_CHARS}]+(?:点[零〇一幺二两三四五六七八九十]+)?")

# Idioms, names and fixed words the rules below would otherwise turn into digits; the caller's
# hot words (place names) are protected the same way.
PROTECTED_WORDS = frozenset(
    _words(
        """
    一心一意 三心二意 一五一十 三三两两 十全十美 十万火急 一千零一夜 三十六计 七十二变 九九八十一
    三七二十一 一清二楚 独一无二 接二连三 三番五次 一干二净 一穷二白 一举两得 一刀两断 两全其美
    一模一样 五湖四海 四面八方 乱七八糟 七上八下 七嘴八舌 五颜六色 五花八门 半斤八两 九牛一毛
    一石二鸟 一年四季 一日三餐 三天两头 三年五载 一丝不苟 千方百计 万无一失 百分百
    更上一层楼 一层楼 三里屯 三里河 五道口 六里桥 十里河 八宝山 二里沟 五棵松 十里堡 七里庄
    九龙 一带一路 十一长假 十一假期 十一黄金周 三八线 二维码 二手房
    """
    )
)

# Measures after which even a single digit is a quantity worth writing in figures.
_MEASURES = _words(
    "号楼 号院 号线 号 楼 层 栋 幢 单元 室 户 期 区 组 排 巷 弄 岁 周岁 元 块钱 角钱 毛钱 "
    "平方米 平米 公里 千米 厘米 毫米 米 亩 公斤 千克 克 斤 吨 度 级 倍 分钟 小时 秒钟 秒 个百分点 %"
)
# 一 is also "a", "one whole", "once": only measures where it cannot mean that.
_ONE_MEASURES = _words(
    "号楼 号院 号线 号 楼 栋 幢 单元 室 期 岁 周岁 元 平方米 平米 公里 千米 厘米 毫米 米 公斤 "
    "千克 斤 吨 分钟 小时 秒钟 秒"
)
_TIME_PREFIXES = _words(
    "上午 下午 中午 早上 早晨 晚上 凌晨 傍晚 夜里 半夜 今天 明天 昨天 后天 前天 每天 今早 今晚 "
    "明早 明晚 早 晚 到 至 从 约 大约 大概"
)
_TIME_SUFFIXES = _words("半 钟 整 多 左右 前 后 以前 以后 之前 之后 到 至 起 开始 出发 集合 见 了")


def _section(s: str) -> int | None:
    """Value of a numeral below 10 000 (一千零五十, 十五, 三百二); None if malformed."""
    total = 0
    digit = None
    last_unit = 10000
    zero = False
    for ch in s:
        if ch in "零〇":
            if digit is not None:
                return None
            zero = True
        elif ch in _DIGITS:
            if digit is not None:
                return None
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            unit = _SMALL_UNITS[ch]
            if unit >= last_unit:
                return None
            if digit is None:
                # 十五 and 一千零十 leave out the 一 before 十; no other unit may go bare.
                if ch != "十" or (total and not zero):
                    return None
                digit = 1
            total += digit * unit
            last_unit = unit
            digit = None
            zero = False
        else:
            return None
    if digit is not None:
        # 三百二 = 320, 两千五 = 2500: a bare trailing digit counts in the next lower unit.
        total += digit * (last_unit // 10) if last_unit in (100, 1000) and not zero else digit
    return total


def _positional(s: str) -> int | None:
    """Value of a positional numeral with 万 and 亿 (两万五 = 25 000); None if malformed."""
    for big, factor in (("亿", 10**8), ("万", 10**4)):
        if big in s:
            head, _, tail = s.partition(big)
            if big in tail or not head:
                return None
            hi = _positional(head)
            if hi is None:
                return None
            if len(tail) == 1 and tail in _DIGITS and tail not in "零〇":
                return hi * factor + _DIGITS[tail] * factor // 10
            lo = _positional(tail.lstrip("零〇")) if tail else 0
            return None if lo is None else hi * factor + lo
    return _section(s) if s else None


def _digit_string(s: str) -> str | None:
    if all(ch in _DIGITS for ch in s):
        return "".join(str(_DIGITS[ch]) for ch in s)
    return None


def _figure(s: str) -> str | None:
    """Arabic form of a Chinese numeral: 二零二四 → 2024, 十五 → 15, 两千万 → 2000万."""
    digits = _digit_string(s)
    if digits is not None:
        return digits
    if s[0] not in _DIGITS and s[0] != "十":
        return None
    for big in ("亿", "万"):
        if s.endswith(big) and big not in s[:-1]:
            head = _positional(s[:-1])
            return None if head is None else f"{head}{big}"
    value = _positional(s)
    return None if value is None else str(value)


def _starts(text: str, pos: int, words: Iterable[str]) -> bool:
    return any(text.startswith(w, pos) for w in words)


def _ends(text: str, pos: int, words: Iterable[str]) -> bool:
    head = text[:pos]
    return any(head.endswith(w) for w in words)


def _convert_run(text: str, start: int, end: int) -> str | None:
    """The replacement for the numeral text[start:end], or None to leave it as spoken."""
    run = text[start:end]
    before = text[start - 1] if start else ""
    after = text[end : end + 1]
    if before == "几" or after == "几" or (before == "第" and len(run) == 1):
        return None
    whole, _, frac = run.partition("点")
    if frac:
        int_part = _figure(whole)
        if int_part is None or not int_part.isdigit():
            return None
        frac_digits = _digit_string(frac)
        clock = _positional(frac)
        # 七点十五 cannot be a decimal; 三点五 is one unless a time word or 分 says otherwise.
        if (
            int(int_part) <= 24
            and clock is not None
            and clock < 60
            and (frac_digits is None or after == "分" or _ends(text, start, _TIME_PREFIXES))
        ):
            return f"{int_part}点{clock}"
        return f"{int_part}.{frac_digits}" if frac_digits is not None else None
    # A whole number directly before 点: a clock time only in a time context (一点 is "a bit").
    if after == "点":
        value = _figure(run)
        if value is None or not value.isdigit() or int(value) > 24:
            return None
        if (
            len(run) > 1
            or _ends(text, start, _TIME_PREFIXES)
            or _starts(text, end + 1, _TIME_SUFFIXES)
        ):
            return value
        return None
    if after == "年" and _digit_string(run) is not None:
        # Years are read digit by digit: 二零二四年, 零五年.
        return _digit_string(run) if len(run) == 4 or run[0] in "零〇" else None
    if after in ("月",) and len(run) <= 2:
        value = _positional(run) if run != "十" else 10
        return str(value) if value and 1 <= value <= 12 else None
    if after == "日":
        value = _positional(run)
        if value and 1 <= value <= 31 and _ends(text, start, ("月",)):
            return str(value)
        return None
    digits = _digit_string(run)
    if digits is not None:
        if len(run) >= 3:
            return digits
        if len(run) == 2:
            # 五六个, 一二线: two bare digits are a range; with a zero they are a code (二零).
            return digits if "零" in run or "〇" in run else None
        if run in "幺零〇":
            return None
        measures = _ONE_MEASURES if run == "一" else _MEASURES
        return digits if _starts(text, end, measures) else None
    if run == "十":
        return "10" if _starts(text, end, _MEASURES) else None
    return _figure(run)


def _mask(text: str, words: Iterable[str]) -> tuple[str, list[str]]:
    """Replace protected words with private-use placeholders so no rule touches them."""
    saved: list[str] = []
    for word in sorted({w for w in words if w}, key=len, reverse=True):
        if word in text:
            placeholder = chr(0xE000 + len(saved))
            saved.append(word)
            text = text.replace(word, placeholder)
    return text, saved


def _unmask(text: str, saved: list[str]) -> str:
    for i, word in enumerate(saved):
        text = text.replace(chr(0xE000 + i), word)
    return text


_PERCENT = re.compile(f"百分之([{_NUM_CHARS}]+(?:点[零〇一幺二两三四五六七八九]+)?)")


def normalize_numbers(text: str, protected: Iterable[str] = ()) -> str:
    """Spoken numbers to figures the way dictation products write them (数字规整).

    三号楼 → 3号楼, 二零二四年三月五日 → 2024年3月5日, 百分之五十 → 50%, 十五分钟 → 15分钟,
    while idioms and names stay (一心一意, 三里屯) and so do counts of one digit before an
    ordinary classifier (三个人), approximate numbers (五六个, 十几个) and ordinals (第一).
    """
    if not text or not any(ch in _NUM_CHARS for ch in text):
        return text
    text, saved = _mask(text, (*PROTECTED_WORDS, *protected))

    def percent(m: re.Match) -> str:
        spoken = m.group(1)
        whole, _, frac = spoken.partition("点")
        head = "100" if whole == "百" else _figure(whole)
        if head is None:
            return m.group(0)
        if frac:
            digits = _digit_string(frac)
            return f"{head}.{digits}%" if digits else m.group(0)
        return f"{head}%"

    text = _PERCENT.sub(percent, text)
    out = []
    pos = 0
    for m in _NUMBER.finditer(text):
        replacement = _convert_run(text, m.start(), m.end())
        if replacement is None:
            continue
        out.append(text[pos : m.start()])
        out.append(replacement)
        pos = m.end()
    out.append(text[pos:])
    return _unmask("".join(out), saved)


# --------------------------------------------------------------------------- hot words

_INITIALS = _words("zh ch sh b p m f d t n l g k h j q x r z c s y w")
# Confusions of Mandarin spoken with a regional accent, as in iFlytek's fuzzy-pinyin options.
_FUZZY_INITIALS = {"zh": "z", "ch": "c", "sh": "s", "n": "l", "f": "h", "r": "l"}
_FUZZY_FINALS = (("iang", "ian"), ("uang", "uan"), ("ang", "an"), ("eng", "en"), ("ing", "in"))


def _fuzzy(syllable: str) -> str:
    if not syllable:
        return ""
    initial = next((i for i in _INITIALS if syllable.startswith(i)), "")
    final = syllable[len(initial) :]
    for long, short in _FUZZY_FINALS:
        if final.endswith(long):
            final = final[: -len(long)] + short
            break
    return _FUZZY_INITIALS.get(initial, initial) + final


def _pinyin(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    # One entry per character (non-Chinese characters give ""), readings chosen in context.
    return lazy_pinyin(text, style=Style.NORMAL, errors=lambda s: [""] * len(s))


@dataclass(frozen=True)
class _Hotword:
    text: str
    syllables: tuple[str, ...]
    keys: tuple[str, ...]


class HotwordCorrector:
    """Replace recognised spans that sound like a known place name with that name.

    Matching is on toneless pinyin with accent-tolerant initials and finals (z/zh, n/l, an/ang
    …). Two-character names must sound exactly alike, three-character names may differ by
    accent only, and names of four or more characters may also have one syllable wrong.
    """

    def __init__(self, hotwords: Iterable[str]) -> None:
        self.hotwords: list[_Hotword] = []
        self._index: dict[tuple[str, ...], list[_Hotword]] = {}
        self._lengths: set[int] = set()
        for word in dict.fromkeys(w.strip() for w in hotwords if w and w.strip()):
            if len(word) < 2 or not all(_CJK_RE.match(ch) for ch in word):
                continue
            syllables = tuple(_pinyin(word))
            hw = _Hotword(word, syllables, tuple(_fuzzy(s) for s in syllables))
            self.hotwords.append(hw)
            self._lengths.add(len(word))
            self._index.setdefault(hw.keys, []).append(hw)
            if len(word) >= 4:
                for i in range(len(word)):
                    wild = (*hw.keys[:i], "*", *hw.keys[i + 1 :])
                    self._index.setdefault(wild, []).append(hw)

    def _score(self, hw: _Hotword, span: str, syllables: Sequence[str]) -> float:
        scores = []
        for want, got, ch_want, ch_got in zip(hw.syllables, syllables, hw.text, span, strict=True):
            if ch_want == ch_got or want == got:
                scores.append(1.0)
            elif _fuzzy(want) == _fuzzy(got):
                scores.append(0.8)
            else:
                scores.append(0.0)
        n = len(scores)
        misses = scores.count(0.0)
        if n == 2 and min(scores) < 1.0:
            return 0.0
        shared = any(a == b for a, b in zip(hw.text, span, strict=True))
        if misses and (n < 4 or misses > 1 or not shared):
            return 0.0
        return sum(scores) / n

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The corrected text and the (heard, replaced-by) pairs."""
        if not self.hotwords or not text:
            return text, []
        syllables = _pinyin(text)
        candidates = []
        for n in sorted(self._lengths, reverse=True):
            for i in range(len(text) - n + 1):
                span = text[i : i + n]
                if not all(syllables[i : i + n]):
                    continue
                keys = tuple(_fuzzy(s) for s in syllables[i : i + n])
                found: dict[str, _Hotword] = {}
                for hw in self._index.get(keys, ()):
                    found[hw.text] = hw
                if n >= 4:
                    for j in range(n):
                        for hw in self._index.get((*keys[:j], "*", *keys[j + 1 :]), ()):
                            found[hw.text] = hw
                for hw in found.values():
                    score = 1.0 if span == hw.text else self._score(hw, span, syllables[i : i + n])
                    if score >= 0.75:
                        candidates.append((score, n, i, hw.text))
        # Best and longest matches first; a span already taken is not rewritten twice.
        candidates.sort(key=lambda c: (-c[0], -c[1], c[2]))
        taken = [False] * len(text)
        chosen = []
        for _score, n, i, word in candidates:
            if any(taken[i : i + n]):
                continue
            for k in range(i, i + n):
                taken[k] = True
            chosen.append((i, n, word))
        out = text
        corrections = []
        for i, n, word in sorted(chosen, reverse=True):
            if out[i : i + n] != word:
                corrections.append((out[i : i + n], word))
                out = out[:i] + word + out[i + n :]
        corrections.reverse()
        return out, corrections


def correct_hotwords(text: str, hotwords: Iterable[str]) -> str:
    """``text`` with spans that sound like one of ``hotwords`` replaced by it."""
    return HotwordCorrector(hotwords).correct(text)[0]


# --------------------------------------------------------------------------- pipeline


def tidy(
    text: str, hotwords: HotwordCorrector | Iterable[str] | None = None, *, final: bool = True
) -> tuple[str, list[tuple[str, str]]]:
    """Engine text to dictation text: simplified, punctuated, names fixed, numbers in figures."""
    text = to_simplified(text or "").strip()
    if not text:
        return "", []
    text = punctuate(text, final=final)
    corrections: list[tuple[str, str]] = []
    names: list[str] = []
    if hotwords:
        corrector = (
            hotwords if isinstance(hotwords, HotwordCorrector) else HotwordCorrector(hotwords)
        )
        text, corrections = corrector.correct(text)
        names = [hw.text for hw in corrector.hotwords]
    return normalize_numbers(text, names), corrections


def compose(
    pieces: Sequence[tuple[float, float, str]],
    hotwords: HotwordCorrector | Iterable[str] | None = None,
    *,
    period_gap: float = 0.9,
) -> tuple[str, list[dict], list[tuple[str, str]]]:
    """Dictation text and segments from timed engine pieces (start s, end s, raw text).

    Each piece is tidied on its own; one that does not end in a mark gets 。 when the next
    piece starts ``period_gap`` seconds or more later (or it is the last), else ，.
    """
    if hotwords and not isinstance(hotwords, HotwordCorrector):
        hotwords = HotwordCorrector(hotwords)
    tidied = []
    corrections: list[tuple[str, str]] = []
    for start, end, raw in pieces:
        text, fixes = tidy(raw, hotwords, final=False)
        text = text.rstrip("，、；：,;: ")
        if text:
            tidied.append([float(start), float(end), text])
            corrections += fixes
    for i, piece in enumerate(tidied):
        text = piece[2]
        if text[-1] in _TERMINAL or text[-1] in "”」』）)…":
            continue
        last = i + 1 == len(tidied)
        if last or tidied[i + 1][0] - piece[1] >= period_gap:
            piece[2] = text + ("？" if text.endswith(_QUESTION_END) else "。")
        else:
            piece[2] = text + "，"
    segments = [{"start": s, "end": e, "text": t} for s, e, t in tidied]
    return join_words(t for _s, _e, t in tidied), segments, corrections


# --------------------------------------------------------------------------- scoring

_STRIP_FOR_CER = re.compile(r"[\s" + re.escape(_PUNCT) + r"]")


def strip_for_cer(text: str) -> str:
    """What CER compares: simplified, numbers normalized, no punctuation or spaces."""
    return _STRIP_FOR_CER.sub("", normalize_numbers(to_simplified(text.translate(_HALFWIDTH))))


def cer_counts(reference: str, hypothesis: str) -> tuple[int, int]:
    """(character edits, reference length) after strip_for_cer on both sides."""
    ref = strip_for_cer(reference)
    hyp = strip_for_cer(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, rc in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, hc in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (rc != hc))
        prev = cur
    return prev[-1], len(ref)


def cer(reference: str, hypothesis: str) -> float:
    """Character error rate: edit distance over reference characters, punctuation ignored."""
    edits, length = cer_counts(reference, hypothesis)
    return edits / length if length else float(bool(strip_for_cer(hypothesis)))

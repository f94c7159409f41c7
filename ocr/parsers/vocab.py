"""Closed value lists of the household register, and snapping a misread value onto them.

Register clerks fill these cells from national code tables, so a read that is one character
off, or that runs into the next cell's label, has exactly one value it can mean:
- 婚姻状况: GB/T 2261.2-2003 (marital status);
- 文化程度: GB/T 4658-2006 (education), with the short forms clerks print (中专, 大专);
- 兵役状况: GB/T 2261.6-2003 (military service);
- 户主或与户主关系: GB/T 4761-2008 (family relationship), plus 集体户口 for collective households;
- 宗教信仰: the five recognised religions, 无 and 其他.
"""

from __future__ import annotations

from ocr.parsers.common import clean_cjk, edit1

MARITAL_STATUS = ("未婚", "已婚", "初婚", "再婚", "复婚", "丧偶", "离婚", "未说明的婚姻状况")

EDUCATION = (
    "博士研究生", "硕士研究生", "研究生", "大学本科", "大学专科", "大学", "大专", "中等专科",
    "中专", "职业高中", "技工学校", "高中", "初中", "小学", "文盲或半文盲", "文盲", "半文盲",
    "学龄前儿童", "博士", "硕士",
)  # fmt: skip

MILITARY_SERVICE = (
    "未服兵役", "退出现役", "服现役", "预备役", "士兵预备役", "军官预备役", "民兵", "不服兵役",
)  # fmt: skip

RELATIONSHIP = (
    "户主", "配偶", "夫", "妻", "子", "独生子", "长子", "次子", "三子", "四子", "五子",
    "养子或继子", "养子", "继子", "女婿", "其他儿子", "女", "独生女", "长女", "次女", "三女",
    "四女", "五女", "养女或继女", "养女", "继女", "儿媳", "其他女儿", "孙子", "孙女", "外孙子",
    "外孙女", "孙媳妇或外孙媳妇", "孙女婿或外孙女婿", "曾孙子或外曾孙子", "曾孙女或外曾孙女",
    "父母", "父亲", "母亲", "公公", "婆婆", "岳父", "岳母", "继父或养父", "继母或养母",
    "祖父母或外祖父母", "祖父", "祖母", "外祖父", "外祖母", "兄弟姐妹", "兄", "嫂", "弟",
    "弟媳", "姐姐", "姐夫", "妹妹", "妹夫", "其他兄弟姐妹", "侄子", "侄女", "外甥", "外甥女",
    "其他", "非亲属", "集体户口",
)  # fmt: skip

RELIGION = ("无", "佛教", "道教", "伊斯兰教", "天主教", "基督教", "其他")


def snap(text: str | None, terms: tuple[str, ...]) -> tuple[str | None, bool]:
    """The term of ``terms`` that ``text`` reads as; returns (value, corrected).

    An exact term is kept. A read one edit from exactly one term of two or more characters
    is corrected (中等专料 → 中等专科); single characters are too ambiguous to guess. Else a
    read that starts with a term and runs on (the next cell's label or value, 已婚兵役状况) or
    carries a stray first character (况未服兵役) gives the longest such term.
    Anything else comes back cleaned and uncorrected, for the worker to check.
    """
    value = clean_cjk(text or "")
    if not value:
        return None, False
    if value in terms:
        return value, False
    # One edit first: 大学专料 is 大学专科 misread, not 大学 with something after it.
    near = [term for term in terms if len(term) >= 2 and edit1(value, term)]
    if len(near) == 1:
        return near[0], True
    for term in sorted(terms, key=len, reverse=True):
        if len(term) >= 2 and (value.startswith(term) or value[1:] == term):
            return term, True
    return value, False


def find_term(text: str, terms: tuple[str, ...]) -> str | None:
    """The longest term of two or more characters printed anywhere in ``text``, if any: a
    neighbouring cell's read can swallow this one's value."""
    value = clean_cjk(text or "")
    for term in sorted(terms, key=len, reverse=True):
        if len(term) >= 2 and term in value:
            return term
    return None

"""Random but internally consistent people, ID cards and household-register entries."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from ledger.registry.idnumber import ETHNICITIES, check_digit
from ocr import regions

__all__ = [
    "AS_OF",
    "RARE_CHARS",
    "Household",
    "IdCardBack",
    "MemberRecord",
    "Person",
    "add_years",
    "issuing_authority",
    "make_household",
    "make_id_card_back",
    "make_member_record",
    "make_person",
    "validity_years",
]

# Fixed "today" so a seed always yields the same people and the same expired cards.
AS_OF = date(2026, 6, 30)

# Surnames with rough frequency weights (per mille of the population, rounded).
_SURNAMES = (
    ("王", 72), ("李", 71), ("张", 68), ("刘", 53), ("陈", 46), ("杨", 32), ("黄", 24),
    ("赵", 20), ("吴", 20), ("周", 19), ("徐", 16), ("孙", 15), ("马", 15), ("朱", 14),
    ("胡", 13), ("郭", 12), ("何", 12), ("林", 11), ("高", 11), ("罗", 11), ("郑", 10),
    ("梁", 10), ("谢", 8), ("宋", 8), ("唐", 8), ("许", 7), ("韩", 7), ("冯", 7), ("邓", 7),
    ("曹", 6), ("彭", 6), ("曾", 6), ("肖", 6), ("田", 6), ("董", 5), ("袁", 5), ("潘", 5),
    ("于", 5), ("蒋", 5), ("蔡", 5), ("余", 5), ("杜", 4), ("叶", 4), ("程", 4), ("苏", 4),
    ("魏", 4), ("吕", 4), ("丁", 4), ("任", 4), ("沈", 4), ("姚", 3), ("卢", 3), ("姜", 3),
    ("崔", 3), ("钟", 3), ("谭", 3), ("陆", 3), ("汪", 3), ("范", 3), ("金", 3), ("石", 3),
    ("廖", 3), ("贾", 3), ("夏", 3), ("韦", 3), ("付", 3), ("方", 3), ("白", 2), ("邹", 2),
    ("孟", 2), ("熊", 2), ("秦", 2), ("邱", 2), ("江", 2), ("尹", 2), ("薛", 2), ("闫", 2),
    ("段", 2), ("雷", 2), ("侯", 2), ("龙", 2), ("史", 2), ("黎", 2), ("贺", 2), ("顾", 2),
    ("毛", 2), ("郝", 2), ("龚", 2), ("邵", 2), ("万", 2), ("钱", 2), ("覃", 2), ("武", 2),
)  # fmt: skip
_COMPOUND_SURNAMES = (
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "皇甫",
    "慕容",
    "司徒",
    "东方",
    "令狐",
    "尉迟",
)
_RARE_SURNAMES = (
    "亓", "仉", "禤", "隗", "佘", "邝", "厍", "訾", "笪", "缑", "郗", "逄", "逯", "琚", "钭",
    "亢", "酆", "妫", "靳", "阚", "𬱖",
)  # fmt: skip
_GIVEN_MALE = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利"
    "清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松"
    "善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建"
    "家致树炎德行时泰盛雄琛钧冠策腾楠榕风航弘宇轩睿"
)
_GIVEN_FEMALE = (
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺"
    "媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹"
    "蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓"
    "欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽诗涵萱"
)
# Rare but real given-name characters (several outside GB 2312, one in CJK Extension A/B+).
RARE_CHARS = "䶮犇淼燚喆赟堃昇玥珺垚焱骉鑫翀昳彧曌婳祎镕𫖯璟昉晞玙旻烜珏芃蕤龑"
# Transliterated Uyghur/Kazakh names are written given·father's name on the card.
_TURKIC_MALE = ("艾力", "买买提", "阿不都", "努尔", "艾合买提", "吐尔逊", "热合曼", "伊力哈木")
_TURKIC_FEMALE = ("古丽", "阿依古丽", "热依拉", "迪丽拜尔", "帕提古丽", "努尔古丽", "米热古丽")
_TIBETAN = ("扎西", "次仁", "顿珠", "卓玛", "格桑", "拉姆", "平措", "央金", "旺堆", "德吉", "尼玛")

# Population-weighted ethnic groups; the rest of the 56 share a small tail.
_ETHNIC_WEIGHTS = {"汉": 9100, "壮": 140, "回": 80, "维吾尔": 80, "满": 75, "苗": 70, "彝": 70,
                   "土家": 65, "藏": 50, "蒙古": 45, "布依": 25, "侗": 25, "瑶": 25, "白": 15,
                   "哈尼": 12, "朝鲜": 12, "黎": 12, "哈萨克": 12}  # fmt: skip

_ROADS = (
    "人民", "解放", "建设", "中山", "和平", "新华", "胜利", "文化", "光明", "长江", "黄河", "滨江",
    "学府", "复兴", "青年", "振兴", "迎宾", "朝阳", "府前", "环城", "花园", "工业", "育才", "体育",
    "健康", "幸福", "团结", "友谊", "北京", "南京", "延安", "庐山", "凤凰", "桂花", "丹桂", "梧桐",
)  # fmt: skip
_ROAD_SUFFIX = ("路", "路", "路", "街", "大道", "大街", "巷")
_ROAD_DIR = ("", "", "", "", "东", "西", "南", "北", "中")
_COMMUNITIES = (
    "阳光", "金色", "翠湖", "锦绣", "幸福", "丽景", "御景", "和谐", "紫荆", "碧水", "春晖", "桃源",
    "枫林", "绿城", "东方", "世纪", "万家", "水岸", "嘉禾", "天和", "华府", "明珠", "龙湖", "香榭",
)  # fmt: skip
_COMMUNITY_SUFFIX = ("花园", "小区", "家园", "苑", "新村", "公寓", "名都", "雅苑", "府")
_VILLAGES = (
    "王家", "李家", "张庄", "大王", "小李", "前进", "红旗", "东风", "新民", "石桥", "柳树", "杨柳",
    "东湖", "西山", "南岗", "北坡", "河口", "桥头", "上塘", "下塘", "高坪", "枣林", "双河", "龙泉",
)  # fmt: skip

_EDUCATION = ("小学", "初中", "高中", "中等专科", "大学专科", "大学本科", "研究生", "博士研究生")
_OCCUPATIONS = (
    ("职员", "公司"), ("工人", "公司"), ("教师", "学校"), ("医生", "医院"), ("护士", "医院"),
    ("工程技术人员", "公司"), ("个体工商户", None), ("农民", None), ("公务员", "机关"),
    ("销售人员", "公司"), ("会计", "公司"), ("司机", "公司"), ("自由职业", None), ("无业", None),
)  # fmt: skip
_COMPANY_WORDS = ("华信", "恒达", "鑫源", "宏图", "远航", "新锐", "博众", "天成", "瑞丰", "中联")
_COMPANY_KIND = ("科技有限公司", "贸易有限公司", "建设集团有限公司", "食品有限公司", "物流有限公司")


@dataclass(frozen=True)
class Person:
    """A resident: what the ID card front prints, plus where they were born."""

    name: str
    sex: str
    ethnicity: str
    birth_date: date
    id_number: str
    birth_region: str
    residence_region: str
    address: str
    surname: str

    @property
    def age(self) -> int:
        return age_on(self.birth_date, AS_OF)


@dataclass(frozen=True)
class IdCardBack:
    """What the back of the current (or, if expired, the last) ID card prints."""

    issuing_authority: str
    valid_from: date
    valid_until: date | None
    expired: bool

    @property
    def long_term(self) -> bool:
        return self.valid_until is None


@dataclass(frozen=True)
class Household:
    """The 户主页 of a 居民户口簿, plus how the given person relates to its head."""

    household_type: str
    head_name: str
    household_number: str
    address: str
    issue_date: date
    relationship: str
    registration_authority: str


@dataclass(frozen=True)
class MemberRecord:
    """One 常住人口登记卡 page; blank cells are None."""

    fields: dict[str, str | None] = field(default_factory=dict)


def age_on(birth: date, day: date) -> int:
    """Completed years between ``birth`` and ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def add_years(day: date, years: int) -> date:
    """Same month and day ``years`` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validity_years(age_at_issue: int) -> int | None:
    """Validity in years under the Resident Identity Card Law (art. 5); None means 长期."""
    if age_at_issue < 16:
        return 5
    if age_at_issue <= 25:
        return 10
    if age_at_issue <= 45:
        return 20
    return None


def _weighted(rng: random.Random, pairs) -> str:
    items = [item for item, _ in pairs]
    weights = [weight for _, weight in pairs]
    return rng.choices(items, weights=weights)[0]


def _ethnicity(rng: random.Random) -> str:
    tail = [(e, 3) for e in ETHNICITIES if e not in _ETHNIC_WEIGHTS]
    return _weighted(rng, [*_ETHNIC_WEIGHTS.items(), *tail])


def _surname(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.02:
        return rng.choice(_COMPOUND_SURNAMES)
    if roll < 0.06:
        return rng.choice(_RARE_SURNAMES)
    return _weighted(rng, _SURNAMES)


def _given_name(rng: random.Random, sex: str) -> str:
    pool = _GIVEN_MALE if sex == "男" else _GIVEN_FEMALE
    length = 1 if rng.random() < 0.25 else 2
    chars = [rng.choice(pool) for _ in range(length)]
    if rng.random() < 0.12:
        chars[rng.randrange(length)] = rng.choice(RARE_CHARS)
    if length == 2 and rng.random() < 0.05:
        chars[1] = chars[0]  # reduplicated names such as 婷婷
    return "".join(chars)


def _name(rng: random.Random, sex: str, ethnicity: str, surname: str | None) -> tuple[str, str]:
    if ethnicity in ("维吾尔", "哈萨克") and surname is None:
        own = rng.choice(_TURKIC_MALE if sex == "男" else _TURKIC_FEMALE)
        return f"{own}·{rng.choice(_TURKIC_MALE)}", ""
    if ethnicity == "藏" and surname is None:
        return rng.choice(_TIBETAN) + rng.choice(_TIBETAN), ""
    surname = surname or _surname(rng)
    return surname + _given_name(rng, sex), surname


def _birth_date(rng: random.Random, min_age: int, max_age: int) -> date:
    age = rng.randint(min_age, max_age)
    latest = add_years(AS_OF, -age)
    return latest - timedelta(days=rng.randrange(365))


def _id_number(rng: random.Random, region_code: str, birth: date, sex: str) -> str:
    # The 17th digit is odd for men and even for women (GB 11643-1999).
    order = rng.randrange(100) * 10 + rng.randrange(0, 10, 2) + (1 if sex == "男" else 0)
    first17 = f"{region_code}{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


def _road(rng: random.Random) -> str:
    return rng.choice(_ROADS) + rng.choice(_ROAD_DIR) + rng.choice(_ROAD_SUFFIX)


def make_address(rng: random.Random, code: str, max_chars: int = 33) -> str:
    """A plausible street address under a real county code, at most ``max_chars`` characters."""
    base = regions.region_name(code) or ""
    towns = regions.townships(code)
    town = rng.choice(towns) if towns else ""
    rural = town.endswith(("镇", "乡")) and rng.random() < 0.7
    if rural:
        tails = [
            f"{rng.choice(_VILLAGES)}村{rng.randint(1, 12)}组{rng.randint(1, 99)}号",
            f"{rng.choice(_VILLAGES)}村{rng.randint(1, 99)}号",
        ]
    else:
        road = f"{_road(rng)}{rng.randint(1, 999)}号"
        floor, door = rng.randint(1, 28), rng.randint(1, 4)
        home = f"{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{floor}{door:02d}室"
        community = rng.choice(_COMMUNITIES) + rng.choice(_COMMUNITY_SUFFIX)
        tails = [f"{road}{home}", f"{road}{community}{home}", f"{community}{home}", road]
        rng.shuffle(tails)
    # Longer, more detailed forms first; fall back to shorter ones so the card fits three lines.
    for tail in sorted(tails, key=len, reverse=True):
        for candidate in (base + town + tail, base + tail):
            if len(candidate) <= max_chars:
                return candidate
    return (base + min(tails, key=len))[:max_chars]


def make_person(
    rng: random.Random,
    *,
    min_age: int = 16,
    max_age: int = 85,
    sex: str | None = None,
    surname: str | None = None,
    ethnicity: str | None = None,
    residence_region: str | None = None,
) -> Person:
    """A random person whose ID number, sex, birth date and regions agree with each other."""
    sex = sex or rng.choice(("男", "女"))
    ethnicity = ethnicity or _ethnicity(rng)
    name, used_surname = _name(rng, sex, ethnicity, surname)
    birth = _birth_date(rng, min_age, max_age)
    residence = residence_region or regions.random_region(rng)
    # Numbers are assigned where a person was first registered, under the codes of that time,
    # so older people often carry a since-abolished code.
    first_registered = max(birth.year, 1985)
    roll = rng.random()
    if roll < 0.6:
        birth_region = residence
    elif roll < 0.8 and first_registered < regions.current_year():
        birth_region = regions.random_region(rng, first_registered)
    else:
        birth_region = regions.random_region(rng)
    return Person(
        name=name,
        sex=sex,
        ethnicity=ethnicity,
        birth_date=birth,
        id_number=_id_number(rng, birth_region, birth, sex),
        birth_region=birth_region,
        residence_region=residence,
        address=make_address(rng, residence),
        surname=used_surname,
    )


def issuing_authority(code: str) -> str:
    """The public-security office that issues cards for a county code, e.g. 杭州市公安局西湖分局."""
    place = regions.region(code)
    if place is None:
        return "公安局"
    county = place.county
    if not county:
        return f"{place.city or place.province}公安局"
    if county.endswith("区"):
        upper = place.city or place.province
        short = county[:-1] if len(county) > 2 and not county.endswith("新区") else county
        return f"{upper}公安局{short}分局"
    return f"{county}公安局"


def make_id_card_back(rng: random.Random, person: Person, *, expired: bool = False) -> IdCardBack:
    """The card a person holds on AS_OF, issued and renewed on schedule; or an expired one."""
    first_age = rng.choice((16, 16, 16, 17, 18, 20, 23)) if person.age >= 16 else rng.randint(0, 15)
    first_age = min(first_age, person.age)
    issue = add_years(person.birth_date, first_age) + timedelta(days=rng.randrange(300))
    issue = min(issue, AS_OF - timedelta(days=rng.randint(10, 200)))
    cards: list[tuple[date, date | None]] = []
    while True:
        years = validity_years(age_on(person.birth_date, issue))
        until = None if years is None else add_years(issue, years)
        cards.append((issue, until))
        if until is None or until > AS_OF:
            break
        # People renew within a few months before expiry; the new card starts on the issue date.
        issue = until - timedelta(days=rng.randint(0, 90))
    is_expired = False
    if expired:
        # Keep a card that ran out a little before AS_OF and whose period fits the age it was
        # issued at; people over 65 have 长期 cards, so for them no such card exists.
        end = AS_OF - timedelta(days=rng.randint(30, 1000))
        for years in rng.sample((5, 10, 20), 3):
            start = add_years(end, -years)
            if (
                start > person.birth_date
                and validity_years(age_on(person.birth_date, start)) == years
            ):
                cards.append((start, end))
                is_expired = True
                break
    issue, until = cards[-1]
    return IdCardBack(
        issuing_authority=issuing_authority(person.residence_region),
        valid_from=issue,
        valid_until=until,
        expired=is_expired or (until is not None and until < AS_OF),
    )


def _household_number(rng: random.Random) -> str:
    style = rng.random()
    if style < 0.5:
        return f"{rng.randrange(10**8):09d}"
    if style < 0.8:
        return f"{rng.randrange(10**7):08d}"
    return f"{rng.randrange(10**11, 10**12)}"


def _date_between(rng: random.Random, start: date, end: date) -> date:
    if end <= start:
        return start
    return start + timedelta(days=rng.randrange((end - start).days + 1))


def make_household(rng: random.Random, person: Person) -> Household:
    """The household a person is registered in, with a head consistent with the relationship."""
    collective = rng.random() < 0.08 and person.age >= 18
    police_station = _police_station(rng, person.residence_region)
    if collective:
        unit = _employer_name(rng, person.residence_region, "公司")
        head = unit
        relationship = "集体户口"
        issue = _date_between(rng, date(2005, 1, 1), AS_OF - timedelta(days=30))
        return Household(
            "集体户",
            head,
            _household_number(rng),
            person.address,
            issue,
            relationship,
            police_station,
        )
    if person.age >= 22 and rng.random() < 0.55:
        relationship = "户主"
        head_name = person.name
        earliest = add_years(person.birth_date, 18)
    else:
        # Grown-up children rarely stay registered under a parent past forty.
        if person.age >= 40 or (person.age >= 22 and rng.random() < 0.5):
            relationship = "妻" if person.sex == "女" else "夫"
            head_sex = "男" if person.sex == "女" else "女"
            head_name = make_person(rng, sex=head_sex, min_age=22).name
        else:
            relationship = rng.choice(
                ("长子", "次子", "子") if person.sex == "男" else ("长女", "次女", "女")
            )
            head_name = _name(
                rng, rng.choice(("男", "女")), person.ethnicity, person.surname or None
            )[0]
        earliest = person.birth_date
    issue = _date_between(rng, max(earliest, date(1995, 1, 1)), AS_OF - timedelta(days=30))
    return Household(
        "家庭户",
        head_name,
        _household_number(rng),
        person.address,
        issue,
        relationship,
        police_station,
    )


def _police_station(rng: random.Random, code: str) -> str:
    towns = regions.townships(code)
    town = rng.choice(towns) if towns else "城关镇"
    short = town.removesuffix("街道").removesuffix("镇").removesuffix("乡") or town
    return issuing_authority(code) + short + "派出所"


def _employer_name(rng: random.Random, code: str, kind: str | None) -> str:
    place = regions.region(code)
    city = (place.city or place.province or "").removesuffix("市") if place else ""
    if kind == "学校":
        return f"{city}市第{rng.randint(1, 30)}中学" if city else "实验中学"
    if kind == "医院":
        return f"{city}市第{rng.randint(1, 9)}人民医院" if city else "人民医院"
    if kind == "机关":
        return f"{city}市{rng.choice(('税务局', '自然资源局', '交通运输局', '民政局'))}"
    return f"{city}{rng.choice(_COMPANY_WORDS)}{rng.choice(_COMPANY_KIND)}"


def _short_place(code: str) -> str:
    place = regions.region(code)
    if place is None:
        return ""
    return place.province + (place.city or place.county)


def _height(rng: random.Random, person: Person) -> str:
    mean, sd = (171.0, 6.5) if person.sex == "男" else (159.0, 5.5)
    return str(round(min(max(rng.gauss(mean, sd), 140.0), 200.0)))


def make_member_record(rng: random.Random, person: Person, household: Household) -> MemberRecord:
    """The 常住人口登记卡 of ``person`` in ``household``; values as printed, blanks as None."""
    age = person.age
    if age < 6:
        education = "学龄前儿童"
    elif age < 12:
        education = "小学"
    elif age < 15:
        education = "初中"
    elif age < 19:
        education = rng.choice(("初中", "高中", "中等专科"))
    elif age < 23:
        education = rng.choice(("高中", "中等专科", "大学专科", "大学本科"))
    else:
        education = rng.choice(_EDUCATION[1:] if age < 70 else _EDUCATION[:4])
    if age < 22:
        marital = "未婚"
    elif household.relationship in ("妻", "夫") or (household.relationship == "户主" and age > 28):
        marital = rng.choice(("已婚", "已婚", "已婚", "离婚", "丧偶")) if age > 60 else "已婚"
    else:
        marital = rng.choice(("未婚", "已婚", "已婚", "离婚"))
    if age < 16 or (age < 23 and rng.random() < 0.6):
        occupation, employer = "学生" if age >= 6 else None, None
    elif age >= 62:
        occupation, employer = "退休", None
    else:
        occupation, kind = rng.choice(_OCCUPATIONS)
        employer = _employer_name(rng, person.residence_region, kind) if kind else None
    moved_city = moved_address = None
    registered = max(household.issue_date, person.birth_date + timedelta(days=rng.randint(20, 180)))
    if person.birth_region[:4] != person.residence_region[:4] and age >= 16:
        moved = _date_between(rng, add_years(person.birth_date, 16), AS_OF - timedelta(days=60))
        moved_city = f"{moved.year}年{moved.month:02d}月由{_short_place(person.birth_region)}迁来"
        registered = max(registered, moved)
    if rng.random() < 0.4 and age >= 18:
        moved = _date_between(rng, registered, AS_OF - timedelta(days=30))
        town = rng.choice(regions.townships(person.residence_region) or ("本市",))
        moved_address = f"{moved.year}年{moved.month:02d}月由本市{town}迁来"
        registered = max(registered, moved)
    registered = min(registered, AS_OF)
    if (
        person.ethnicity in ("回", "维吾尔", "哈萨克", "东乡", "撒拉", "保安")
        and rng.random() < 0.5
    ):
        religion: str | None = "伊斯兰教"
    elif person.ethnicity == "藏" and rng.random() < 0.5:
        religion = "佛教"
    else:
        religion = rng.choice((None, None, None, None, "无", "佛教"))
    native = person.birth_region if rng.random() < 0.7 else regions.random_region(rng)
    fields: dict[str, str | None] = {
        "name": person.name,
        "relationship_to_head": household.relationship,
        "former_name": (
            _name(rng, person.sex, "汉", person.surname or None)[0] if rng.random() < 0.08 else None
        ),
        "sex": person.sex,
        "birthplace": _short_place(person.birth_region),
        "ethnicity": person.ethnicity + "族",
        "native_place": _short_place(native),
        "birth_date": person.birth_date.isoformat(),
        "other_address": make_address(rng, person.residence_region, 24)
        if rng.random() < 0.05
        else None,
        "religion": religion,
        "id_number": person.id_number,
        "height": _height(rng, person) if age >= 16 and rng.random() < 0.6 else None,
        "blood_type": rng.choice(("A型", "B型", "O型", "AB型", "不明"))
        if rng.random() < 0.5
        else None,
        "education": education,
        "marital_status": marital,
        "military_service": (
            rng.choice(("未服兵役",) * 8 + ("退出现役", "预备役")) if age >= 18 else None
        ),
        "employer": employer,
        "occupation": occupation,
        "moved_to_city_info": moved_city,
        "moved_to_address_info": moved_address,
        "registration_date": registered.isoformat(),
    }
    return MemberRecord(fields)

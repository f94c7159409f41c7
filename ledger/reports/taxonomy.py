"""The default report categories: GB/T 30428.2's event and component classes, plus the
social-governance classes grid work adds. Each leaf names its usual department and the hours
each stage may take; offices change them through the API, this is only day one."""

from __future__ import annotations

from dataclasses import dataclass

# Hours allowed per stage: 立案 (accept), 派遣 (dispatch), 处置 (resolve), 核查 (verify).
STANDARD = {"accept": 2, "dispatch": 2, "resolve": 72, "verify": 24}
URGENT = {"accept": 0.5, "dispatch": 0.5, "resolve": 4, "verify": 4}
QUICK = {"accept": 1, "dispatch": 1, "resolve": 24, "verify": 24}

DEPARTMENTS = {
    "chengguan": "城管",
    "huanwei": "环卫",
    "zhujian": "住建",
    "shizheng": "市政",
    "yuanlin": "园林绿化",
    "jiaotong": "交通",
    "paichusuo": "派出所",
    "xiaofang": "消防",
    "shequ": "社区居委会",
    "sifa": "司法所",
    "minzheng": "民政",
    "wuye": "物业",
}


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    parent: str | None
    department: str | None
    deadlines: dict[str, float]
    # Words that point at this category (the day-one suggestion model's seed).
    keywords: tuple[str, ...] = ()


def _leaf(code, name, parent, department, keywords, deadlines=STANDARD) -> Category:
    return Category(code, name, parent, department, deadlines, tuple(keywords.split()))


TOP = [
    Category("event.city", "市容环境", None, None, STANDARD),
    Category("event.ads", "宣传广告", None, None, STANDARD),
    Category("event.construction", "施工管理", None, None, STANDARD),
    Category("event.emergency", "突发事件", None, None, URGENT),
    Category("event.street", "街面秩序", None, None, QUICK),
    Category("part.public", "公用设施", None, None, STANDARD),
    Category("part.traffic", "道路交通", None, None, STANDARD),
    Category("part.green", "园林绿化", None, None, STANDARD),
    Category("social.dispute", "矛盾纠纷", None, None, STANDARD),
    Category("social.hazard", "安全隐患", None, None, QUICK),
    Category("social.livelihood", "民生服务", None, None, STANDARD),
    Category("social.special", "特殊人群", None, None, QUICK),
]
LEAVES = [
    _leaf("event.city.garbage", "暴露垃圾", "event.city", "huanwei", "垃圾 堆放 乱倒 垃圾堆 发臭"),
    _leaf("event.city.overflow", "垃圾满溢", "event.city", "huanwei", "垃圾桶 满溢 溢出 没人清运"),
    _leaf("event.city.dirty_road", "道路不洁", "event.city", "huanwei", "路面 脏 油污 泥土 洒落"),
    _leaf("event.city.debris", "积存渣土", "event.city", "chengguan", "渣土 建筑垃圾 装修垃圾"),
    _leaf("event.ads.flyers", "非法小广告", "event.ads", "chengguan", "小广告 牛皮癣 张贴 喷涂"),
    _leaf("event.ads.banner", "违规户外广告", "event.ads", "chengguan", "横幅 广告牌 招牌 破损"),
    _leaf(
        "event.construction.noise",
        "施工扰民",
        "event.construction",
        "zhujian",
        "施工 噪音 夜间施工 扰民",
    ),
    _leaf(
        "event.construction.enclosure",
        "施工围挡破损",
        "event.construction",
        "zhujian",
        "围挡 工地 扬尘",
    ),
    _leaf(
        "event.emergency.fire", "火灾", "event.emergency", "xiaofang", "起火 着火 冒烟 火灾", URGENT
    ),
    _leaf(
        "event.emergency.flood",
        "积水内涝",
        "event.emergency",
        "shizheng",
        "积水 内涝 淹 水漫",
        URGENT,
    ),
    _leaf(
        "event.emergency.gas",
        "燃气泄漏",
        "event.emergency",
        "xiaofang",
        "燃气 煤气 泄漏 漏气 气味",
        URGENT,
    ),
    _leaf(
        "event.street.vending",
        "无照经营游商",
        "event.street",
        "chengguan",
        "摆摊 游商 流动摊贩 占道经营 小贩",
        QUICK,
    ),
    _leaf(
        "event.street.parking",
        "违章停车",
        "event.street",
        "jiaotong",
        "乱停 停车 占用 车辆 堵路",
        QUICK,
    ),
    _leaf(
        "event.street.outside",
        "店外经营",
        "event.street",
        "chengguan",
        "店外 出店 占道 堆放 货物",
        QUICK,
    ),
    _leaf("part.public.manhole", "井盖缺损", "part.public", "shizheng", "井盖 缺失 破损 下水道"),
    _leaf("part.public.lamp", "路灯损坏", "part.public", "shizheng", "路灯 不亮 灯坏 照明"),
    _leaf("part.public.pipe", "供水管道破损", "part.public", "shizheng", "水管 爆裂 漏水 自来水"),
    _leaf("part.traffic.road", "道路破损", "part.traffic", "shizheng", "路面 坑洼 塌陷 破损 坑"),
    _leaf(
        "part.traffic.sign", "交通标志损坏", "part.traffic", "jiaotong", "红绿灯 信号灯 标志牌 护栏"
    ),
    _leaf("part.green.tree", "树木倒伏", "part.green", "yuanlin", "树 倒伏 断枝 歪倒 枯树"),
    _leaf("part.green.lawn", "绿地破坏", "part.green", "yuanlin", "绿地 草坪 踩踏 毁绿 种菜"),
    _leaf(
        "social.dispute.neighbor", "邻里纠纷", "social.dispute", "shequ", "邻居 吵架 纠纷 矛盾 噪音"
    ),
    _leaf(
        "social.dispute.family", "家庭纠纷", "social.dispute", "sifa", "家庭 夫妻 赡养 婚姻 打架"
    ),
    _leaf(
        "social.dispute.property", "物业纠纷", "social.dispute", "wuye", "物业 物业费 停车位 业主"
    ),
    _leaf("social.dispute.wages", "劳资纠纷", "social.dispute", "sifa", "工资 欠薪 拖欠 工钱"),
    _leaf(
        "social.hazard.fire_exit",
        "消防通道堵塞",
        "social.hazard",
        "xiaofang",
        "消防通道 楼道 堆物 堵塞 安全出口",
        QUICK,
    ),
    _leaf(
        "social.hazard.ebike",
        "电动车违规充电",
        "social.hazard",
        "xiaofang",
        "电动车 充电 飞线 楼道充电",
        QUICK,
    ),
    _leaf(
        "social.hazard.building",
        "房屋安全隐患",
        "social.hazard",
        "zhujian",
        "房屋 裂缝 危房 墙体 脱落",
        QUICK,
    ),
    _leaf(
        "social.livelihood.elderly",
        "困难老人帮扶",
        "social.livelihood",
        "minzheng",
        "独居老人 困难 救助 低保 帮扶",
    ),
    _leaf(
        "social.livelihood.utility",
        "水电气暖",
        "social.livelihood",
        "wuye",
        "停水 停电 暖气 不热 断气",
    ),
    _leaf(
        "social.special.mental",
        "严重精神障碍患者",
        "social.special",
        "paichusuo",
        "精神 发病 肇事 情绪 失控",
        QUICK,
    ),
    _leaf(
        "social.special.minor",
        "困境未成年人",
        "social.special",
        "minzheng",
        "孩子 未成年 留守 辍学 无人照顾",
        QUICK,
    ),
]
CATEGORIES = {c.code: c for c in (*TOP, *LEAVES)}


def path_of(code: str) -> str:
    """The category's full name with its parent, e.g. 市容环境/暴露垃圾."""
    category = CATEGORIES[code]
    parent = CATEGORIES.get(category.parent) if category.parent else None
    return f"{parent.name}/{category.name}" if parent else category.name

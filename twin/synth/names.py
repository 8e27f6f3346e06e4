"""Vocabularies for believable Chinese names: roads, compounds, companies, people, events.

Road and compound names combine place-like and auspicious morphemes the way Shenzhen's do
(翻身路, 宝安大道, 碧海花园, 翠湖山庄); people's names follow the frequency of common
surnames; nothing is random characters.
"""

from __future__ import annotations

import numpy as np

ROAD_STEMS = (
    "宝安 新安 西乡 福永 沙井 松岗 石岩 航城 福海 新桥 燕罗 翻身 建安 创业 前进 宝民 "
    "裕安 兴华 公园 海秀 新湖 宝城 上川 甲岸 灵芝 雅园 文汇 洪浪 同乐 坪洲 臣田 固戍 "
    "鹤洲 黄田 桃源 白石 凤凰 塘尾 岭下 和平 福源 怀德 永和 新和 兴围 大洋 钟屋 "
    "新沙 步涌 沙头 衙边 壆岗 民主 共和 东环 中心 南环 北环 腾飞 振兴 龙华 观澜 "
    "民治 大浪 布吉 坂田 横岗 平湖 坪地 葵涌 南澳 盐田 梅林 华富 园岭 香蜜 莲花 "
    "科技 高新 学府 海天 滨海 前海 后海 蛇口 南头 桃园 荔枝 红荔 深南 北环 滨河"
).split()
ROAD_SUFFIXES = (("大道", 0.08), ("路", 0.62), ("街", 0.18), ("巷", 0.12))
DIRECTIONS = ("东", "西", "南", "北", "中", "一", "二", "三")

COMPOUND_STEMS = (
    "碧海 翠湖 富源 海滨 金海 银田 宝城 丽景 锦绣 华丰 美庐 星河 万科 天骄 名门 "
    "幸福 阳光 御景 泰华 海雅 中洲 新城 雍华 桃源 龙城 凤凰 兰亭 尚都 君临 宏发 "
    "嘉园 怡景 东方 西城 南国 北岸 春华 秋实 盛世 长城 汇港 领航 金域 翡翠 翠竹 "
    "香山 碧桂 绿景 卓越 万象 鸿荣 荔园 椰风 海悦 滨江 云峰 雅居 富通 安联"
).split()
COMPOUND_SUFFIXES = (
    "花园",
    "山庄",
    "苑",
    "雅苑",
    "名苑",
    "豪庭",
    "公馆",
    "华庭",
    "新村",
    "家园",
    "广场",
    "大厦",
    "城",
    "府",
)
VILLAGE_STEMS = (
    "黄田",
    "钟屋",
    "岭下",
    "上合",
    "下十围",
    "罗田",
    "塘尾",
    "南昌",
    "壆岗",
    "白石厦",
    "新桥",
    "沙井",
    "蚝乡",
    "坣岗",
    "岗头",
    "水田",
    "石围",
    "楼村",
)
PARK_SUFFIXES = ("工业园", "科技园", "产业园", "创意园", "工业区")
SCHOOL_SUFFIXES = ("小学", "中学", "实验学校", "幼儿园")
CLINIC_SUFFIXES = ("社区健康服务中心", "门诊部", "人民医院")
SHOP_SUFFIXES = ("商业街", "市场", "购物广场")
BUILDING_MARKS = ("栋", "座", "幢", "号楼")

SURNAMES = (
    "王 李 张 刘 陈 杨 黄 赵 吴 周 徐 孙 马 朱 胡 郭 何 林 罗 高 郑 梁 谢 宋 唐 "
    "许 韩 冯 邓 曹 彭 曾 肖 田 董 潘 袁 蔡 蒋 余 于 杜 叶 程 魏 苏 吕 丁 任 卢 "
    "姚 沈 钟 姜 崔 谭 陆 范 汪 廖 石 金 韦 贾 夏 付 方 邹 熊 白 孟 秦 邱 侯 江 "
    "尹 薛 闫 段 雷 龙 黎 史 陶 贺 毛 郝 顾 龚 邵 万 覃 武 钱 戴 严 欧阳 司马"
).split()
GIVEN_CHARS = (
    "伟 芳 娜 秀 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 桂 英 华 "
    "玉 萍 红 飞 鹏 辉 建 文 斌 宇 浩 凯 欣 怡 婷 雪 琳 晨 嘉 俊 子 梓 涵 睿 "
    "博 轩 宁 思 雨 佳 昊 然 晓 海 林 志 国 东 春 燕 梅 兰 娇 慧 鑫 宏 亮"
).split()
BRANDS = (
    "华为 腾讯 比亚 迈瑞 大族 欣旺 立讯 顺丰 汇川 信维 宝能 鹏鼎 光峰 德赛 兆驰 "
    "海能 拓邦 朗科 捷顺 英唐 科陆 宇阳 联得 雷赛 金百 创维 天马 长盈 华强 "
    "富安 恒通 盛达 鑫源 宏图 中天 佳和 瑞丰 安达 永盛 诚信 新锐 卓创 智联"
).split()
INDUSTRIES = (
    "科技",
    "电子",
    "实业",
    "贸易",
    "物流",
    "餐饮管理",
    "建筑工程",
    "投资咨询",
    "精密制造",
    "供应链",
    "信息技术",
    "文化传媒",
    "医疗器械",
    "新材料",
)
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "个体工商户")
EVENT_TYPES = (
    "消防隐患",
    "占道经营",
    "噪音扰民",
    "垃圾堆放",
    "违章搭建",
    "道路破损",
    "井盖缺失",
    "路灯故障",
    "流动摊贩",
    "乱停乱放",
    "治安隐患",
    "出租屋安全",
    "环境卫生",
    "邻里纠纷",
    "电动车违规充电",
)
LANDMARKS = (
    "地铁站",
    "公交站",
    "人民医院",
    "万达广场",
    "天虹商场",
    "沃尔玛",
    "中心公园",
    "派出所",
    "图书馆",
    "体育馆",
)
PROVINCES_AWAY = (
    "湖南省衡阳市衡南县",
    "广西壮族自治区玉林市博白县",
    "江西省赣州市于都县",
    "四川省达州市渠县",
    "河南省信阳市固始县",
    "湖北省黄冈市麻城市",
    "广东省梅州市五华县",
    "广东省湛江市雷州市",
    "福建省龙岩市上杭县",
)


def pick(rng: np.random.Generator, items: tuple[str, ...] | list[str]) -> str:
    """Pick one item uniformly."""
    return items[int(rng.integers(len(items)))]


def road_name(rng: np.random.Generator, taken: set[str]) -> tuple[str, str]:
    """Return a new (name, class) pair not in ``taken`` (e.g. ``("翻身路", "路")``)."""
    suffixes = [s for s, _ in ROAD_SUFFIXES]
    weights = [w for _, w in ROAD_SUFFIXES]
    for attempt in range(1000):
        suffix = suffixes[int(rng.choice(len(suffixes), p=weights))]
        stem = pick(rng, ROAD_STEMS)
        if attempt > 50 or rng.random() < 0.25:
            stem += pick(rng, DIRECTIONS)
        if attempt > 200:
            stem += pick(rng, ROAD_STEMS)
        name = stem + suffix
        if name not in taken:
            taken.add(name)
            return name, suffix
    raise RuntimeError("road names exhausted")  # pragma: no cover


def unique_name(
    rng: np.random.Generator,
    stems: tuple[str, ...] | list[str],
    suffixes: tuple[str, ...],
    taken: set[str],
) -> str:
    """Return a stem+suffix name not yet in ``taken`` (adding 二期, 三期 ... when needed)."""
    for attempt in range(400):
        name = pick(rng, stems) + pick(rng, suffixes)
        if attempt > 100:
            name += "二三四五六七八九"[attempt % 8] + "期"
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("names exhausted")  # pragma: no cover


SURNAME_P = np.array([1.0 / (i + 1) for i in range(len(SURNAMES))])
SURNAME_P /= SURNAME_P.sum()

_NICK = {
    "residential": "小区",
    "village": "村",
    "industrial": "工业区",
    "office": "大厦",
    "shops": "市场",
    "school": "学校",
    "clinic": "医院",
}
_SUFFIXES = sorted(
    {
        *COMPOUND_SUFFIXES,
        "村",
        "新村",
        "老村",
        *PARK_SUFFIXES,
        "大厦",
        "中心",
        "商务中心",
        "科技大厦",
        *SCHOOL_SUFFIXES,
        *CLINIC_SUFFIXES,
        *SHOP_SUFFIXES,
    },
    key=len,
    reverse=True,
)


def nickname(name: str, kind: str) -> str:
    """Return the short name people use for a compound (碧海花园 → 碧海小区).

    Examples
    --------
    >>> nickname("下十围新村", "village"), nickname("碧海花园", "residential")
    ('下十围村', '碧海小区')
    """
    stem = name
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            break
    return stem + _NICK.get(kind, "")


def person_name(rng: np.random.Generator) -> str:
    """Return a believable Chinese name (surname + one or two given characters)."""
    # Common surnames are far more frequent: weights falling as 1/rank.
    idx = int(rng.choice(len(SURNAMES), p=SURNAME_P))
    given = pick(rng, GIVEN_CHARS)
    if rng.random() < 0.7:
        given += pick(rng, GIVEN_CHARS)
    return SURNAMES[idx] + given

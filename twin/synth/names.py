"""Place-name vocabularies: roads, compounds, villages, parks, schools, clinics, shops.

Names are built the way Shenzhen's are, from local place names (the real street and community
names of the district: 上川路, 上川村, 上川第二工业区), auspicious and civic words (创业路,
和平路, 碧海花园, 翠湖山庄), directions and numbers (新安一路, 宝民东路) — never random
characters. Old names and nicknames come from the same vocabularies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

#: Civic and auspicious words of road names (和平路, 创业路, 兴华路...).
VIRTUES = (
    "和平 友谊 团结 文明 仁爱 兴业 创业 前进 建设 繁荣 振兴 腾飞 富强 民主 共和 幸福 "
    "安乐 康乐 长青 育才 新华 人民 朝阳 永安 兴华 崇文 尚德 明德 怀德 立新 创新 致远 "
    "宏发 宝民 裕安 建安 公园 文化 体育 工业 学府 海滨 滨河 环城 教育 金融"
).split()
DIRECTIONS = ("东", "西", "南", "北", "中")
NUMERALS = ("一", "二", "三", "四", "五", "六", "七", "八", "九")
#: Road classes and their shares among the non-main roads.
ROAD_CLASSES = (("路", 0.6), ("街", 0.2), ("巷", 0.2))

#: Auspicious stems of compound, park and building names.
COMPOUND_STEMS = (
    "碧海 翠湖 富源 金海 银田 丽景 锦绣 华丰 美庐 星河 天骄 名门 幸福 阳光 御景 泰华 "
    "海雅 中洲 新城 雍华 桃源 龙城 凤凰 兰亭 尚都 君临 宏发 嘉园 怡景 东方 西城 南国 "
    "北岸 春华 秋实 盛世 长城 汇港 领航 金域 翡翠 翠竹 香山 绿景 卓越 万象 鸿荣 荔园 "
    "椰风 海悦 滨江 云峰 雅居 富通 安联 宝利 恒丰 金泰 永丰 华盛 宏图 隆源 泰然 佳华"
).split()
#: Hamlet names found inside Shenzhen's urban villages (老围, 新围, 田心...).
HAMLETS = (
    "老围 新围 上屋 下屋 田心 塘边 围仔 岭下 山边 水口 坑口 石龙 塘头 墩头 沙边 "
    "禾坪 井头 园岭 大围 东坊 西坊 南坊 北坊"
).split()

_SUFFIXES: dict[str, tuple[str, ...]] = {
    "residential": tuple(
        "花园 花园 山庄 苑 雅苑 名苑 豪庭 公馆 华庭 家园 新村 名居 华府 城 府 广场".split()
    ),
    "village": ("村", "新村", "老村", "一坊", "二坊", "三坊"),
    "industrial": ("工业区", "工业园", "科技园", "产业园", "创意园", "第一工业区", "第二工业区"),
    "office": ("大厦", "商务中心", "科技大厦", "国际大厦", "中心", "商务大厦"),
    "shops": ("农贸市场", "商业街", "市场", "购物广场", "商业广场"),
    "school": ("小学", "中学", "实验学校", "幼儿园", "第二小学", "外国语学校"),
    "clinic": ("社区健康服务中心", "门诊部", "中医门诊部", "口腔门诊部"),
}
#: Which kinds take local place names (else auspicious stems), and how often.
_LOCAL_SHARE = {
    "residential": 0.15,
    "village": 0.8,
    "industrial": 0.55,
    "office": 0.1,
    "shops": 0.6,
    "school": 0.9,
    "clinic": 0.9,
}
#: What people call a compound instead of its name (碧海花园 → 碧海小区).
_NICK = {
    "residential": "小区",
    "village": "村",
    "industrial": "工业区",
    "office": "大厦",
    "shops": "市场",
    "school": "学校",
    "clinic": "医院",
}
#: Former suffixes, for old names (碧海花园 was 碧海新村).
_OLD = {
    "residential": ("新村", "小区", "住宅区"),
    "village": ("大队", "围", "村"),
    "industrial": ("工业村", "加工区", "工业区"),
    "office": ("大楼", "写字楼"),
    "shops": ("墟", "市场"),
    "school": ("学校", "小学"),
    "clinic": ("卫生站", "医务室"),
}
_ALL_SUFFIXES = sorted(
    {s for group in _SUFFIXES.values() for s in group} | {"村", "围"}, key=len, reverse=True
)


def pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    """Pick one item uniformly."""
    return items[int(rng.integers(len(items)))]


def place_stem(name: str) -> str | None:
    """Return the place name inside an administrative name, if usable in other names.

    Examples
    --------
    >>> place_stem("上川社区"), place_stem("新安街道"), place_stem("莲花三村"), place_stem("老村")
    ('上川', '新安', '莲花', None)
    >>> place_stem("深圳市宝安国际机场虚拟社区") is None
    True
    """
    for suffix in ("社区", "街道", "新村", "村", "区"):
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    name = name.rstrip("".join(NUMERALS))
    if not 2 <= len(name) <= 3 or "虚拟" in name or "机场" in name:
        return None
    return name


def _candidates(
    rng: np.random.Generator, local: str, district_stems: Sequence[str], lane: bool
) -> tuple[str, str]:
    """One attempt at an ordinary road name: (name, class); lanes (巷) only if ``lane``."""
    classes = [c for c, _ in ROAD_CLASSES]
    road_class = classes[int(rng.choice(len(classes), p=[w for _, w in ROAD_CLASSES]))]
    if road_class == "巷" and not lane:
        road_class = "路"
    roll = rng.random()
    stem = (
        local if roll < 0.55 else pick(rng, VIRTUES) if roll < 0.85 else pick(rng, district_stems)
    )
    if road_class == "巷":
        return f"{stem}{pick(rng, NUMERALS[:6])}巷", road_class
    roll = rng.random()
    if roll < 0.25:
        stem += pick(rng, DIRECTIONS)
    elif roll < 0.45:
        stem += pick(rng, NUMERALS[:5])
    return stem + road_class, road_class


def road_name(
    rng: np.random.Generator,
    local: str,
    district_stems: Sequence[str],
    taken: set[str],
    *,
    main: bool = False,
    lane: bool = False,
) -> tuple[str, str]:
    """Return a new road (name, class) not in ``taken``, and take it.

    Parameters
    ----------
    rng
        The random stream.
    local
        The place name where the road runs (its community's), e.g. ``上川``.
    district_stems
        Place names of the district and its streets (宝安, 新安, 西乡...).
    taken
        Names in use in the district; the new name is added.
    main
        A main road (…大道), named after the district or a street where possible.
    lane
        A short road that may be a lane (…巷).

    Examples
    --------
    >>> import numpy as np
    >>> road_name(np.random.default_rng(3), "上川", ["宝安", "新安"], set(), main=True)[1]
    '大道'
    """
    if main:
        for stem in [pick(rng, district_stems) for _ in range(4)] + [local, pick(rng, VIRTUES)]:
            if stem + "大道" not in taken:
                taken.add(stem + "大道")
                return stem + "大道", "大道"
    for _ in range(60):
        name, road_class = _candidates(rng, local, district_stems, lane)
        if name not in taken:
            taken.add(name)
            return name, road_class
    for n in range(1, 10_000):  # a crowded district: number the local roads
        name = f"{local}{n}号路"
        if name not in taken:
            taken.add(name)
            return name, "路"
    raise RuntimeError("road names exhausted")  # pragma: no cover


def old_road_name(rng: np.random.Generator, name: str, road_class: str) -> str:
    """Return a former name of a road (renamed roads keep their old name as an alias).

    Examples
    --------
    >>> import numpy as np
    >>> old_road_name(np.random.default_rng(0), "上川路", "路").endswith(("路", "公路"))
    True
    """
    if road_class == "大道":
        return name[: -len(road_class)] + "公路"
    return pick(rng, VIRTUES) + ("路" if road_class == "巷" else road_class)


def compound_name(rng: np.random.Generator, kind: str, local: str, taken: set[str]) -> str:
    """Return a new name for a compound of ``kind`` in a community called ``local``.

    Examples
    --------
    >>> import numpy as np
    >>> compound_name(np.random.default_rng(2), "village", "上川", set()).startswith("上川")
    True
    """
    suffixes = _SUFFIXES[kind]
    for attempt in range(200):
        if kind == "village" and attempt % 3 == 2:
            stem = local + pick(rng, HAMLETS)[:2]
        elif rng.random() < _LOCAL_SHARE[kind] or attempt > 150:
            stem = local
        else:
            stem = pick(rng, COMPOUND_STEMS)
        name = stem + pick(rng, suffixes)
        if attempt > 100:
            name += pick(rng, NUMERALS[1:]) + "期"
        nick = nickname(name, kind)
        # Neither the name nor what people call it may be another compound's.
        if name not in taken and (nick == name or nick not in taken):
            taken.update((name, nick))
            return name
    raise RuntimeError("compound names exhausted")  # pragma: no cover


def _stem(name: str) -> str:
    for suffix in _ALL_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def nickname(name: str, kind: str) -> str:
    """Return the short name people use for a compound.

    Examples
    --------
    >>> nickname("上川新村", "village"), nickname("碧海花园", "residential")
    ('上川村', '碧海小区')
    """
    return _stem(name) + _NICK[kind]


def old_compound_name(rng: np.random.Generator, name: str, kind: str) -> str:
    """Return a former name of a compound (碧海花园 was 碧海新村).

    Examples
    --------
    >>> import numpy as np
    >>> old_compound_name(np.random.default_rng(1), "碧海花园", "residential")[:2]
    '碧海'
    """
    old = [s for s in _OLD[kind] if not name.endswith(s)]
    return _stem(name) + pick(rng, old)

"""Vocabularies of people, companies and grid events, with their frequencies.

Weights are relative frequencies, not probabilities (:func:`weights` normalises them):
surnames per mille of the national population with the south's surnames raised (Shenzhen's
migrants come most from Guangdong, Hunan, Guangxi, Jiangxi, Hubei, Sichuan and Henan), home
counties by how often they appear among Shenzhen's migrants (a believable spread, not a
statistic). County codes are GB/T 2260 codes of real counties.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

SURNAMES: tuple[tuple[str, float], ...] = tuple(
    (s, float(w))
    for s, w in (
        item.split(":")
        for item in (
            "王:71 李:70 张:67 刘:54 陈:75 杨:31 黄:38 赵:23 吴:24 周:20 徐:17 孙:15 马:15 "
            "朱:13 胡:13 郭:12 何:14 林:18 罗:14 高:11 郑:11 梁:16 谢:10 宋:8 唐:8 许:8 "
            "韩:7 冯:7 邓:9 曹:7 彭:7 曾:9 肖:6 田:6 董:5 潘:6 袁:5 蔡:6 蒋:5 余:5 于:5 "
            "杜:5 叶:6 程:4 魏:4 苏:5 吕:4 丁:4 任:4 卢:5 姚:3 沈:3 钟:5 姜:3 崔:3 谭:4 "
            "陆:3 范:3 汪:3 廖:4 石:3 金:3 韦:4 贾:3 夏:2 付:2 方:3 邹:3 熊:2 白:2 孟:2 "
            "秦:2 邱:3 侯:2 江:2 尹:2 薛:2 闫:2 段:2 雷:2 龙:2 黎:3 史:2 陶:2 贺:2 毛:2 "
            "郝:2 顾:2 龚:2 邵:2 万:2 覃:2 武:2 钱:2 戴:2 严:2 欧阳:0.5 司马:0.1"
        ).split()
    )
)
MALE_CHARS = (
    "伟 强 磊 军 勇 杰 涛 明 超 刚 平 辉 鹏 建 文 斌 宇 浩 凯 俊 博 轩 昊 海 林 志 国 东 "
    "鑫 宏 亮 健 峰 华 龙 飞 成 锋 波 毅 晨 睿 泽 航 铭 嘉 子 家 荣 坤"
).split()
FEMALE_CHARS = (
    "芳 娜 秀 敏 静 丽 艳 娟 霞 桂 英 玉 萍 红 燕 梅 兰 娇 慧 欣 怡 婷 雪 琳 晨 嘉 涵 雨 "
    "佳 思 晓 梓 妍 颖 璐 倩 玲 洁 月 诗 琪 蕾 薇 莹 丹 瑶 楠 悦 彤"
).split()
HOME_COUNTIES: tuple[tuple[str, str, float], ...] = (
    ("440513", "广东省汕头市潮阳区", 4), ("440514", "广东省汕头市潮南区", 3),
    ("445281", "广东省揭阳市普宁市", 4), ("445224", "广东省揭阳市惠来县", 2),
    ("441424", "广东省梅州市五华县", 4), ("441481", "广东省梅州市兴宁市", 3),
    ("440882", "广东省湛江市雷州市", 3), ("440883", "广东省湛江市吴川市", 2),
    ("440981", "广东省茂名市高州市", 3), ("440983", "广东省茂名市信宜市", 2),
    ("441621", "广东省河源市紫金县", 3), ("441581", "广东省汕尾市陆丰市", 3),
    ("441521", "广东省汕尾市海丰县", 2), ("441881", "广东省清远市英德市", 2),
    ("430422", "湖南省衡阳市衡南县", 3), ("430421", "湖南省衡阳市衡阳县", 3),
    ("430582", "湖南省邵阳市邵东市", 3), ("430524", "湖南省邵阳市隆回县", 2),
    ("431021", "湖南省郴州市桂阳县", 2), ("431122", "湖南省永州市东安县", 2),
    ("430181", "湖南省长沙市浏阳市", 2), ("450923", "广西壮族自治区玉林市博白县", 3),
    ("450921", "广西壮族自治区玉林市容县", 2), ("450881", "广西壮族自治区贵港市桂平市", 2),
    ("450422", "广西壮族自治区梧州市藤县", 2), ("450821", "广西壮族自治区贵港市平南县", 2),
    ("360731", "江西省赣州市于都县", 3), ("360735", "江西省赣州市石城县", 1),
    ("360781", "江西省赣州市瑞金市", 2), ("360722", "江西省赣州市信丰县", 2),
    ("421181", "湖北省黄冈市麻城市", 2), ("421182", "湖北省黄冈市武穴市", 1),
    ("421126", "湖北省黄冈市蕲春县", 1), ("511725", "四川省达州市渠县", 2),
    ("511722", "四川省达州市宣汉县", 1), ("511321", "四川省南充市南部县", 1),
    ("411525", "河南省信阳市固始县", 2), ("411526", "河南省信阳市潢川县", 1),
    ("411628", "河南省周口市鹿邑县", 1), ("350823", "福建省龙岩市上杭县", 1),
    ("350583", "福建省泉州市南安市", 1), ("500101", "重庆市万州区", 1),
    ("500235", "重庆市云阳县", 1),
)  # fmt: skip
TOWNS = (
    "三塘 新塘 石市 大水 东岸 双桥 高桥 长乐 太平 永安 和平 城关 白沙 龙潭 黄土 大坪 "
    "石门 清水 金山 柳塘 车田 沙坪 洪山 河口"
).split()
VILLAGES = (
    "新屋 上坪 下坪 大塘 石桥 竹林 枫树 桥头 中心 红星 光明 联合 团结 新华 东风 高岭 "
    "坪上 塘下 水口 黄泥 杨梅 荷塘 松山 马头"
).split()

#: Characters of company brand names (鑫盛, 宏达...), never a real company's name.
BRAND_CHARS = "宏鑫盛达源泰丰创联科信华恒通佳瑞永金海安鹏兴隆汇捷美嘉富博天中星诚益德顺合力宝"
#: (name part, industry) of enterprises: 深圳市 + brand + part + form.
INDUSTRIES: tuple[tuple[str, str, float], ...] = (
    ("电子科技", "制造业", 8), ("精密五金", "制造业", 4), ("塑胶制品", "制造业", 3),
    ("光电", "制造业", 2), ("新材料", "制造业", 2), ("医疗器械", "制造业", 1),
    ("服装", "制造业", 2), ("实业", "制造业", 3),
    ("智能科技", "科学研究和技术服务业", 4),
    ("信息技术", "信息传输、软件和信息技术服务业", 5),
    ("供应链管理", "租赁和商务服务业", 3), ("投资咨询", "租赁和商务服务业", 2),
    ("人力资源", "租赁和商务服务业", 1), ("物流", "交通运输、仓储和邮政业", 3),
    ("贸易", "批发和零售业", 8), ("建筑工程", "建筑业", 2), ("装饰设计", "建筑业", 2),
    ("餐饮管理", "住宿和餐饮业", 2), ("文化传媒", "文化、体育和娱乐业", 2),
    ("物业管理", "房地产业", 1),
)  # fmt: skip
COMPANY_FORMS: tuple[tuple[str, float], ...] = (
    ("有限公司", 90), ("股份有限公司", 4), ("有限责任公司", 6),
)  # fmt: skip
#: (shop, industry) of individual businesses (个体工商户): 深圳市 + district + place + brand + shop.
SHOPS: tuple[tuple[str, str, float], ...] = (
    ("便利店", "批发和零售业", 6), ("士多店", "批发和零售业", 3), ("五金店", "批发和零售业", 2),
    ("水果店", "批发和零售业", 2), ("服装店", "批发和零售业", 2), ("粮油店", "批发和零售业", 1),
    ("药店", "批发和零售业", 1), ("快餐店", "住宿和餐饮业", 4), ("餐馆", "住宿和餐饮业", 4),
    ("茶餐厅", "住宿和餐饮业", 2), ("理发店", "居民服务、修理和其他服务业", 3),
    ("手机维修部", "居民服务、修理和其他服务业", 2),
    ("电器维修部", "居民服务、修理和其他服务业", 1),
)  # fmt: skip
#: A registered address many Shenzhen companies share (a Qianhai business secretary).
QIANHAI_SECRETARY = "深圳市前海深港合作区前湾一路1号A栋201室（入驻深圳市前海商务秘书有限公司）"

#: (event type, description, weight) of grid events (网格事件).
EVENT_TYPES: tuple[tuple[str, str, float], ...] = (
    ("消防隐患", "楼道堆放杂物，堵塞消防通道", 8), ("占道经营", "店铺门前占道摆卖", 7),
    ("噪音扰民", "夜间施工噪音扰民", 5), ("垃圾堆放", "生活垃圾未及时清运", 8),
    ("违章搭建", "天台违章搭建", 4), ("道路破损", "人行道路面破损", 3),
    ("井盖缺失", "井盖缺失存在安全隐患", 1), ("路灯故障", "路灯不亮", 2),
    ("流动摊贩", "流动摊贩聚集", 4), ("乱停乱放", "共享单车乱停乱放", 6),
    ("治安隐患", "出租屋人员混杂", 2), ("出租屋安全", "出租屋消防设施不全", 5),
    ("环境卫生", "绿化带垃圾", 4), ("邻里纠纷", "楼上漏水引起纠纷", 2),
    ("电动车违规充电", "电动车楼道内充电", 6),
)  # fmt: skip


@cache
def _weights(items: tuple[tuple[object, ...], ...]) -> np.ndarray:
    w = np.array([float(i[-1]) for i in items])  # type: ignore[arg-type]
    out: np.ndarray = w / w.sum()
    return out


def weights(items: Sequence[tuple[object, ...]]) -> np.ndarray:
    """Return the normalised weights (last field) of a vocabulary.

    Examples
    --------
    >>> round(float(weights(COMPANY_FORMS).sum()), 6)
    1.0
    """
    return _weights(tuple(items))

// Chinese by default, English on request (?lang=en, or the switch; remembered in localStorage).
// Elements carry data-i18n="key" (text) or data-i18n-placeholder="key"; code calls t("key").

const STRINGS = {
  zh: {
    title: "城市孪生",
    search: "搜索地址、楼栋、社区…",
    statistic: "着色",
    "stat.people": "实有人口",
    "stat.companies": "法人单位",
    "stat.events": "网格事件",
    "stat.height_m": "建筑高度",
    "stat.floors": "楼层数",
    "stat.built_year": "建成年代",
    "stat.use": "建筑用途",
    "tab.blocks": "区块",
    "tab.layers": "图层",
    "tab.review": "待审核",
    "tab.thematic": "专题图",
    "tab.services": "公共服务",
    "stat.renting": "租住比例",
    onMap: "在地图上显示",
    withheldLong: "不公开（<5）",
    noData: "无数据",
    "band.review": "待核",
    "band.reject": "未落位",
    "band.accept": "已落位",
    "review.noRight": "待审核队列含个人记录：当前角色无权查看，请使用网格员或督导的密钥。",
    "review.here": "仅区块面板所选社区/网格",
    "review.refresh": "刷新",
    "review.count": "待审核 {n} 条（本密钥范围内）",
    "review.given": "原始地址",
    "review.placed": "落位",
    "review.locate": "定位",
    "review.confirm": "确认",
    "review.correct": "更正",
    "review.code": "正确的编码",
    "review.needCode": "更正需要填写正确的地址、房屋或楼栋编码",
    "review.done.confirmed": "已确认落位 {id}",
    "review.done.corrected": "已更正落位 {id}",
    "thematic.communities": "按社区（全部）",
    "thematic.grids": "{name} 的网格",
    "services.kind": "设施类型",
    "services.school": "学校",
    "services.clinic": "社康/诊所",
    "services.residents": "居民",
    "services.covered": "半径内居民",
    "services.facilities": "设施",
    "services.capacity": "容量",
    "services.per1000": "每千人",
    "services.per1000Long": "每千名居民的容量",
    "services.summary": "{kind}：{n} 处，服务半径 {r} 米",
    "layers.boundaries": "行政边界",
    "layers.labels": "名称标注",
    "layers.buildings": "三维建筑",
    "layers.streets": "道路与门牌（近景）",
    city: "深圳市",
    people: "人口",
    companies: "法人",
    events: "事件",
    buildings: "楼栋",
    rooms: "房屋",
    children: "下级",
    withheld: "<5",
    "level.district": "区",
    "level.street": "街道",
    "level.community": "社区",
    "level.grid": "网格",
    "level.building": "楼栋",
    "level.road": "道路",
    "level.door": "门牌",
    "level.compound": "小区",
    "level.unit": "单元",
    "level.floor": "楼层",
    "level.room": "房屋",
    "use.residential": "住宅",
    "use.commercial": "商业",
    "use.industrial": "工业",
    "use.public": "公共",
    "use.office": "办公",
    "use.mixed": "混合",
    "use.other": "其他",
    inspector: "楼栋信息",
    close: "关闭",
    "code.building": "楼栋编码",
    "code.address": "地址编码",
    "code.grid": "网格编码",
    address: "标准地址",
    aliases: "别名",
    floors: "楼层",
    floorsAbove: "地上层数",
    floorsBelow: "地下层数",
    height: "高度",
    use: "用途",
    built: "建成",
    floorStack: "分层查看",
    wholeBuilding: "整栋",
    floorN: "{n}层",
    basementN: "地下{n}层",
    occupancy: "入住人数",
    empty: "空置",
    records: "个人记录（已脱敏）",
    noRecords: "当前角色无权查看个人记录",
    "kind.person": "人口",
    "kind.legal_entity": "法人",
    "kind.event": "事件",
    confidence: "置信度",
    noResults: "无匹配结果",
    reset: "复位视角",
    north: "指北",
    tilt: "倾斜/俯视",
    zoomIn: "放大",
    zoomOut: "缩小",
    room: "房号",
    loading: "加载中…",
    keyPrompt: "请输入 API 密钥",
    legend: "图例",
    unknown: "未知",
  },
  en: {
    title: "City twin",
    search: "Search addresses, buildings, communities…",
    statistic: "Colour by",
    "stat.people": "People",
    "stat.companies": "Companies",
    "stat.events": "Events",
    "stat.height_m": "Height",
    "stat.floors": "Floors",
    "stat.built_year": "Year built",
    "stat.use": "Use",
    "tab.blocks": "Blocks",
    "tab.layers": "Layers",
    "tab.review": "Review",
    "tab.thematic": "Thematic",
    "tab.services": "Services",
    "stat.renting": "Renting share",
    onMap: "Show on the map",
    withheldLong: "withheld (<5)",
    noData: "no data",
    "band.review": "to review",
    "band.reject": "not placed",
    "band.accept": "placed",
    "review.noRight": "The review queue holds personal records: this role may not see it. Use a grid worker's or supervisor's key.",
    "review.here": "Only the community/grid of the blocks panel",
    "review.refresh": "Refresh",
    "review.count": "{n} placements to review (within this key's scope)",
    "review.given": "Given address",
    "review.placed": "Placed at",
    "review.locate": "Locate",
    "review.confirm": "Confirm",
    "review.correct": "Correct",
    "review.code": "right code",
    "review.needCode": "A correction needs the code of the right address, room or building",
    "review.done.confirmed": "Placement {id} confirmed",
    "review.done.corrected": "Placement {id} corrected",
    "thematic.communities": "By community (all)",
    "thematic.grids": "Grids of {name}",
    "services.kind": "Facility kind",
    "services.school": "Schools",
    "services.clinic": "Clinics",
    "services.residents": "Pop.",
    "services.covered": "Near",
    "services.facilities": "Sites",
    "services.capacity": "Cap.",
    "services.per1000": "/1,000",
    "services.per1000Long": "Capacity per 1,000 residents",
    "services.summary": "{kind}: {n} facilities, radius {r} m",
    "layers.boundaries": "Boundaries",
    "layers.labels": "Labels",
    "layers.buildings": "3D buildings",
    "layers.streets": "Roads and door plates (close up)",
    city: "Shenzhen",
    people: "People",
    companies: "Companies",
    events: "Events",
    buildings: "Buildings",
    rooms: "Rooms",
    children: "Units below",
    withheld: "<5",
    "level.district": "District",
    "level.street": "Street",
    "level.community": "Community",
    "level.grid": "Grid",
    "level.building": "Building",
    "level.road": "Road",
    "level.door": "Door",
    "level.compound": "Compound",
    "level.unit": "Unit",
    "level.floor": "Floor",
    "level.room": "Room",
    "use.residential": "Residential",
    "use.commercial": "Commercial",
    "use.industrial": "Industrial",
    "use.public": "Public",
    "use.office": "Office",
    "use.mixed": "Mixed",
    "use.other": "Other",
    inspector: "Building",
    close: "Close",
    "code.building": "Building code",
    "code.address": "Address code",
    "code.grid": "Grid code",
    address: "Standard address",
    aliases: "Aliases",
    floors: "Floors",
    floorsAbove: "Floors above ground",
    floorsBelow: "Basement floors",
    height: "Height",
    use: "Use",
    built: "Built",
    floorStack: "Floor by floor",
    wholeBuilding: "Whole",
    floorN: "Floor {n}",
    basementN: "B{n}",
    occupancy: "People in rooms",
    empty: "Empty",
    records: "Records (masked)",
    noRecords: "This role may not see individual records",
    "kind.person": "Person",
    "kind.legal_entity": "Company",
    "kind.event": "Event",
    confidence: "confidence",
    noResults: "No match",
    reset: "Reset view",
    north: "North up",
    tilt: "Tilt / top-down",
    zoomIn: "Zoom in",
    zoomOut: "Zoom out",
    room: "Room",
    loading: "Loading…",
    keyPrompt: "Enter an API key",
    legend: "Legend",
    unknown: "unknown",
  },
};

const listeners = [];
let lang = "zh";

/** Pick the language: ?lang=, then the remembered choice, then Chinese. */
export function initLanguage(params) {
  const wanted = params.get("lang") || window.localStorage.getItem("twin.lang") || "zh";
  lang = wanted in STRINGS ? wanted : "zh";
  apply();
  return lang;
}

export function currentLanguage() {
  return lang;
}

/** The string of a key in the current language ({n} replaced by vars.n). */
export function t(key, vars = {}) {
  const s = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

/** A floor's label: "3层" / "地下2层" (Floor 3 / B2). */
export function floorLabel(no) {
  return no < 0 ? t("basementN", { n: -no }) : t("floorN", { n: no });
}

/** Call fn after every language change (panels re-render their dynamic text). */
export function onLanguageChange(fn) {
  listeners.push(fn);
}

export function setLanguage(next) {
  lang = next in STRINGS ? next : "zh";
  window.localStorage.setItem("twin.lang", lang);
  apply();
  for (const fn of listeners) fn(lang);
}

function apply() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of document.querySelectorAll("[data-i18n-title]")) {
    el.title = t(el.dataset.i18nTitle);
  }
}

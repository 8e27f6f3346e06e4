// The blocks panel: the breadcrumb 深圳市 › district › street › community › grid › building,
// the numbers of the level shown (people, companies, events, buildings, units below), and the
// units one level down, busiest first. Choosing a unit flies to it and draws its grids.

import { getJson } from "./api.js";
import { t } from "./i18n.js";

const CHILD_LEVEL = { district: "street", street: "community", community: "grid" };

export function fmt(n) {
  if (n === null || n === undefined) return t("withheld");
  return Number(n).toLocaleString();
}

export class BlocksPanel {
  constructor({ crumbs, numbers, children, map, state, onBuilding, onLeaveBuilding, onChange }) {
    Object.assign(this, { crumbsEl: crumbs, numbersEl: numbers, childrenEl: children });
    this.map = map;
    this.state = state;
    this.onBuilding = onBuilding;
    this.onLeaveBuilding = onLeaveBuilding;
    this.onChange = onChange || (() => {});
    this.path = [];
    this.children = [];
  }

  /** Show the city (no code) or a block by its code; fly there unless told not to. */
  async show(code, { fly = true, districts = null } = {}) {
    if (!code) {
      districts = districts || (await getJson("/api/v1/units?level=district"));
      this.path = [];
      this.state.block = null;
      this.map.highlightUnit(null);
      this.children = districts.features.map((f) => f.properties).filter((p) => p.buildings > 0);
      this.render();
      this.onChange();
      return;
    }
    const { path } = await getJson(`/api/v1/blocks/${code}/path`);
    await this.showPath(path, { fly });
  }

  /** Show a path the caller already has (the inspector's building card carries one). */
  async showPath(path, { fly = true } = {}) {
    this.path = path;
    const last = path[path.length - 1];
    this.state.block = last.code;
    this.map.highlightUnit(last.level === "building" ? null : last.code, last.bbox);
    if (fly && last.level !== "building") this.map.flyToBox(last.bbox);
    // Grids are drawn for the community in view (all of them at once would be thousands).
    const community = path.find((p) => p.level === "community");
    if (community && this.gridsOf !== community.code) {
      this.gridsOf = community.code;
      const grids = await getJson(`/api/v1/units?level=grid&parent=${community.code}`);
      this.map.setUnits("grid", grids);
    }
    const below = CHILD_LEVEL[last.level];
    this.children = below
      ? (await getJson(`/api/v1/units?level=${below}&parent=${last.code}`)).features.map((f) => f.properties)
      : [];
    this.children.sort((a, b) => (b.people ?? 0) - (a.people ?? 0) || a.code.localeCompare(b.code));
    this.render();
    this.onChange();
  }

  render() {
    const crumbs = [{ code: null, name: t("city"), level: "city" }, ...this.path];
    this.crumbsEl.replaceChildren(
      ...crumbs.map((c) => {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.textContent = c.name;
        a.dataset.code = c.code || "";
        a.dataset.level = c.level;
        a.title = c.code ? `${t(`level.${c.level}`)} ${c.code}` : "";
        a.addEventListener("click", () => this.choose(c));
        li.append(a);
        return li;
      }),
    );
    const last = this.path[this.path.length - 1];
    const sum = (key) => this.children.reduce((s, c) => s + (c[key] ?? 0), 0);
    const numbers = last
      ? [
          ["people", last.people],
          ["companies", last.companies],
          ["events", last.events],
          last.level === "building" ? ["rooms", last.children] : ["buildings", last.buildings],
          ...(last.level === "building" ? [] : [["children", last.children]]),
        ]
      : [
          ["people", sum("people")],
          ["companies", sum("companies")],
          ["events", sum("events")],
          ["buildings", sum("buildings")],
        ];
    this.numbersEl.replaceChildren(
      ...numbers.map(([key, value]) => {
        const div = document.createElement("div");
        div.dataset.key = key;
        const b = document.createElement("b");
        b.textContent = fmt(value);
        const span = document.createElement("span");
        span.textContent = t(key);
        div.append(b, span);
        return div;
      }),
    );
    this.childrenEl.replaceChildren(
      ...this.children.map((c) => {
        const li = document.createElement("li");
        li.dataset.code = c.code;
        const name = document.createElement("span");
        name.textContent = c.name;
        const n = document.createElement("span");
        n.className = "n";
        n.textContent = `${fmt(c.people)} ${t("people")} · ${fmt(c.buildings)} ${t("buildings")}`;
        li.append(name, n);
        li.addEventListener("click", () => this.choose(c));
        return li;
      }),
    );
  }

  choose(c) {
    if (c.level === "building") {
      this.onBuilding(c.code);
    } else {
      this.onLeaveBuilding();
      this.show(c.code).catch((err) => this.state.showError(err));
    }
  }
}

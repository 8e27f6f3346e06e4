// The planner's thematic map: communities (or the grids of the community shown in the blocks
// panel) filled by a statistic — people, companies, events or the renting share of the people
// (the `residence` facet of GET /api/v1/blocks/{code}) — with a legend and a list. Counts the
// server withholds (below the privacy threshold) are "withheld", never 0.

import { getJson } from "./api.js";
import { fmt } from "./blocks.js";
import { t } from "./i18n.js";
import { classColour, classLegend, countBreaks, drawLegend } from "./stats.js";

const SHARE_BREAKS = [0, 0.2, 0.4, 0.6, 0.8];

/** Statistic → its value in a block's counts (null: withheld; undefined: no data). */
export const MEASURES = {
  people: (c) => c.people.total,
  companies: (c) => c.companies.total,
  events: (c) => c.events.total,
  renting: (c) => {
    const total = c.people.total;
    if (total === null) return null;
    if (!total) return undefined;
    const renting = c.people.renting;
    if (renting === null) return null;
    return (renting || 0) / total;
  },
};

const pct = (v) => `${Math.round(v * 100)}%`;

export class ThematicPanel {
  constructor({ root, map, state, communities, onUnit }) {
    this.root = root;
    this.map = map;
    this.state = state;
    this.communities = communities; // () => the GeoJSON of every community
    this.onUnit = onUnit;
    this.units = null; // {level, parent, features, counts: code → counts}
    this.$ = (sel) => root.querySelector(sel);
    this.$("#thematic-stat").addEventListener("change", () => this.render());
    this.$("#thematic-show").addEventListener("change", () => this.render());
  }

  get stat() {
    return this.$("#thematic-stat").value;
  }

  /** Load the units to colour: the grids of the community in the blocks panel, else communities. */
  async refresh() {
    const block = this.state.block || "";
    const level = block.length >= 12 ? "grid" : "community";
    const parent = level === "grid" ? block.slice(0, 12) : null;
    if (!this.units || this.units.level !== level || this.units.parent !== parent) {
      this.units = level === "grid" ? await this.grids(parent) : await this.allCommunities();
    }
    this.render();
    return this.units;
  }

  async allCommunities() {
    const features = this.communities().features;
    // A street's block lists its communities with their facets: one request per street with
    // buildings; communities of the others have no records (all counts 0).
    const streets = [...new Set(features.filter((f) => f.properties.buildings > 0).map((f) => f.properties.parent_code))];
    const counts = {};
    for (const block of await Promise.all(streets.map((s) => getJson(`/api/v1/blocks/${s}`)))) {
      for (const child of block.children) counts[child.code] = child.counts;
    }
    return { level: "community", parent: null, features, counts };
  }

  async grids(community) {
    const [units, block] = await Promise.all([
      getJson(`/api/v1/units?level=grid&parent=${community}`),
      getJson(`/api/v1/blocks/${community}`),
    ]);
    const counts = Object.fromEntries(block.children.map((c) => [c.code, c.counts]));
    return { level: "grid", parent: community, parentName: block.unit.name, features: units.features, counts };
  }

  /** The value of the chosen statistic for a unit. */
  value(code) {
    const c = this.units.counts[code];
    if (!c) return this.stat === "renting" ? undefined : 0;
    return MEASURES[this.stat](c);
  }

  label(v) {
    if (v === null) return t("withheldLong");
    if (v === undefined) return t("noData");
    return this.stat === "renting" ? pct(v) : fmt(v);
  }

  render() {
    const show = this.$("#thematic-show").checked;
    if (!this.units) return;
    const share = this.stat === "renting";
    const codes = this.units.features.map((f) => f.properties.code);
    const breaks = share ? SHARE_BREAKS : countBreaks(codes.map((c) => this.value(c)));
    const colourOf = (p) => classColour(this.value(p.code), breaks);
    this.$("#thematic-level").textContent =
      this.units.level === "grid" ? t("thematic.grids", { name: this.units.parentName }) : t("thematic.communities");
    this.$("#thematic-title").textContent = t(`stat.${this.stat}`);
    drawLegend(
      this.$("#thematic-legend"),
      classLegend(breaks, (lo, hi) => {
        if (share) return hi === undefined ? `≥ ${pct(lo)}` : `${pct(lo)}–${pct(hi)}`;
        if (hi === undefined) return `≥ ${fmt(lo)}`;
        return hi - lo === 1 ? fmt(lo) : `${fmt(lo)}–${fmt(hi - 1)}`;
      }),
    );
    const rows = this.units.features
      .map((f) => ({ code: f.properties.code, name: f.properties.name, value: this.value(f.properties.code) }))
      .sort((a, b) => (b.value ?? -1) - (a.value ?? -1) || a.code.localeCompare(b.code));
    this.$("#thematic-list").replaceChildren(
      ...rows.map((r) => {
        const li = document.createElement("li");
        li.dataset.code = r.code;
        li.dataset.value = r.value === null ? "withheld" : String(r.value ?? "");
        const swatch = document.createElement("i");
        swatch.className = "swatch";
        swatch.style.background = classColour(r.value, breaks);
        const name = document.createElement("span");
        name.append(swatch, r.name);
        const value = document.createElement("b");
        value.textContent = this.label(r.value);
        li.append(name, value);
        li.addEventListener("click", () => this.onUnit(r.code));
        return li;
      }),
    );
    if (show) {
      this.map.setFills(this.units.features, colourOf);
      this.state.fillsBy = "thematic";
    } else if (this.state.fillsBy === "thematic") {
      this.map.setFills(null);
      this.state.fillsBy = null;
    }
  }
}

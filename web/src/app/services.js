// The service-resource view: facilities of a kind (schools, clinics) against the people who
// live near them, per community (GET /api/v1/analysis/services?kind=), as a table and as the
// communities filled by capacity per 1,000 residents.

import { getJson } from "./api.js";
import { fmt } from "./blocks.js";
import { t } from "./i18n.js";
import { COOL, classColour, classLegend, countBreaks, drawLegend } from "./stats.js";

/** The kinds the analysis knows norms for (blocks/placement/services.py). */
export const SERVICE_KINDS = ["school", "clinic"];

/** A legend class of capacity per 1,000 residents ([lo, hi): the first is "no capacity"). */
function classLabel(lo, hi) {
  if (hi === undefined) return `≥ ${fmt(lo)}`;
  return lo === 0 && hi === 1 ? "0" : `${fmt(lo)}–${fmt(hi)}`;
}

export class ServicesPanel {
  constructor({ root, map, state, communities, onUnit }) {
    this.root = root;
    this.map = map;
    this.state = state;
    this.communities = communities; // () => the GeoJSON of every community
    this.onUnit = onUnit;
    this.answer = null;
    this.error = null;
    this.$ = (sel) => root.querySelector(sel);
    const reload = () => this.load().catch((err) => state.showError(err));
    this.$("#services-kind").addEventListener("change", reload);
    this.$("#services-show").addEventListener("change", () => this.render());
  }

  async load() {
    const kind = this.$("#services-kind").value;
    try {
      this.answer = await getJson(`/api/v1/analysis/services?kind=${encodeURIComponent(kind)}`);
      this.error = null;
    } catch (err) {
      if (err.status !== 422) throw err;
      this.answer = null; // no facility of this kind in the database: the server says so
      this.error = err.message.replace(/^422 /, "");
    }
    this.render();
    return this.answer;
  }

  render() {
    const tbody = this.$("#services-table tbody");
    if (!this.answer) {
      tbody.replaceChildren();
      this.$("#services-summary").textContent = this.error || "";
      this.$("#services-legend").replaceChildren();
      if (this.state.fillsBy === "services") {
        this.map.setFills(null);
        this.state.fillsBy = null;
      }
      return;
    }
    const rows = this.answer.communities;
    const byCode = Object.fromEntries(rows.map((r) => [r.code, r]));
    const breaks = countBreaks(rows.map((r) => r.capacity_per_1000));
    const value = (r) => (r ? (r.capacity_per_1000 ?? undefined) : undefined);
    const facilities = rows.reduce((n, r) => n + r.facilities, 0);
    this.$("#services-summary").textContent = t("services.summary", {
      kind: t(`services.${this.answer.kind}`),
      n: fmt(facilities),
      r: fmt(this.answer.radius_m),
    });
    drawLegend(
      this.$("#services-legend"),
      classLegend(breaks, classLabel, COOL).filter(
        ([, label]) => label !== t("withheldLong"),
      ),
    );
    tbody.replaceChildren(
      ...rows.map((r) => {
        const tr = document.createElement("tr");
        tr.dataset.code = r.code;
        const cells = [r.name, fmt(r.residents), fmt(r.covered_residents), fmt(r.facilities),
          fmt(Math.round(r.capacity)),
          r.capacity_per_1000 === null ? "—" : fmt(Math.round(r.capacity_per_1000))];
        for (const [i, text] of cells.entries()) {
          const td = document.createElement("td");
          td.textContent = text;
          if (i === 0) {
            td.title = text;
            const swatch = document.createElement("i");
            swatch.className = "swatch";
            swatch.style.background = classColour(value(r), breaks, COOL);
            td.prepend(swatch);
          }
          tr.append(td);
        }
        tr.addEventListener("click", () => this.onUnit(r.code));
        return tr;
      }),
    );
    if (this.$("#services-show").checked) {
      this.map.setFills(this.communities().features, (p) => classColour(value(byCode[p.code]), breaks, COOL));
      this.state.fillsBy = "services";
    } else if (this.state.fillsBy === "services") {
      this.map.setFills(null);
      this.state.fillsBy = null;
    }
  }
}

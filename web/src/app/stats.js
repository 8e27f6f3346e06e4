// The statistics buildings can be coloured by: each a property of the city tileset's feature
// table, with class breaks, colours and the legend that explains them.

import { Cesium3DTileStyle } from "@cesium/engine";
import { t } from "./i18n.js";

export const WARM = ["#fff3c4", "#fdd27b", "#f9a24b", "#ec6a35", "#c9362c", "#8f1d2c"];
export const COOL = ["#e3f1f7", "#b3d8ea", "#7fb8d9", "#4b93c3", "#2a6aa6", "#173f7a"];
const AGE = ["#5e3c99", "#8c6bb1", "#b2a2d0", "#d9d0e9", "#f2e6c9"];

/** Statistic → breaks (lower bounds of each class, ascending) and colours, or categories. */
export const STATISTICS = {
  people: { breaks: [0, 1, 20, 50, 100, 200], colours: WARM },
  companies: { breaks: [0, 1, 3, 10, 20, 40], colours: WARM },
  events: { breaks: [0, 1, 2, 3, 5, 10], colours: WARM },
  height_m: { breaks: [0, 10, 24, 50, 100, 150], colours: COOL, unit: "m" },
  floors: { breaks: [1, 3, 7, 12, 20, 33], colours: COOL },
  built_year: { breaks: [1, 1990, 2000, 2010, 2020], colours: AGE, unknown: 0 },
  use: {
    categories: {
      residential: "#f2c66d",
      commercial: "#e07a5f",
      industrial: "#8d99ae",
      public: "#81b29a",
      office: "#3d7ea6",
      mixed: "#b56576",
    },
    other: "#cfcfcf",
  },
};
const SELECTED = "#00e5ff";
const UNKNOWN = "#bdbdbd";

function quote(s) {
  return `'${String(s).replace(/'/g, "\\'")}'`;
}

/** The colour conditions of a statistic (first match wins; the last is the fallback). */
function conditions(name, alpha = 1) {
  const stat = STATISTICS[name];
  const color = (c) => (alpha < 1 ? `color('${c}', ${alpha})` : `color('${c}')`);
  if (stat.categories) {
    return [
      ...Object.entries(stat.categories).map(([k, c]) => [`\${use} === ${quote(k)}`, color(c)]),
      ["true", color(stat.other)],
    ];
  }
  const out = [];
  if (stat.unknown !== undefined) {
    out.push([`\${${name}} === ${stat.unknown}`, color(UNKNOWN)]);
  }
  for (let i = stat.breaks.length - 1; i >= 0; i -= 1) {
    out.push([`\${${name}} >= ${stat.breaks[i]}`, color(stat.colours[i])]);
  }
  out.push(["true", color(UNKNOWN)]);
  return out;
}

/**
 * The tileset style: colour by statistic, the selected building highlighted; while a building
 * is opened floor by floor it is hidden and the others are see-through, so nothing hides it.
 * The buildings in `replaced` (those whose linked BIM model is shown) are hidden too.
 */
export function buildingStyle(name, { selected = null, hidden = null, replaced = [] } = {}) {
  const rules = conditions(name, hidden ? 0.25 : 1);
  if (selected) rules.unshift([`\${code} === ${quote(selected)}`, `color('${SELECTED}')`]);
  const gone = [...new Set([hidden, ...replaced].filter(Boolean))];
  return new Cesium3DTileStyle({
    color: { conditions: rules },
    show: gone.length ? gone.map((c) => `\${code} !== ${quote(c)}`).join(" && ") : "true",
  });
}

/** The legend's rows: [colour, label] of each class, coarse to fine. */
export function legendRows(name) {
  const stat = STATISTICS[name];
  if (stat.categories) {
    return [
      ...Object.entries(stat.categories).map(([k, c]) => [c, t(`use.${k}`)]),
      [stat.other, t("use.other")],
    ];
  }
  const rows = stat.breaks.map((lo, i) => {
    const hi = stat.breaks[i + 1];
    const unit = stat.unit || "";
    let label;
    if (hi === undefined) label = `≥ ${lo}${unit}`;
    else if (hi - lo === 1) label = `${lo}${unit}`;
    else label = `${lo}–${hi - 1}${unit}`;
    if (name === "built_year" && i === 0) label = `< ${hi}`;
    return [stat.colours[i], label];
  });
  if (stat.unknown !== undefined) rows.push([UNKNOWN, t("unknown")]);
  return rows;
}

/** Colour of a room by its people (null: withheld, shown grey). */
export function occupancyColour(people) {
  if (people === null || people === undefined) return UNKNOWN;
  const breaks = [0, 1, 2, 3, 5, 8];
  let colour = WARM[0];
  breaks.forEach((lo, i) => {
    if (people >= lo) colour = WARM[i];
  });
  return colour;
}

export const OCCUPANCY_LEGEND = [
  [WARM[0], "0"],
  [WARM[1], "1"],
  [WARM[2], "2"],
  [WARM[3], "3–4"],
  [WARM[4], "5–7"],
  [WARM[5], "≥ 8"],
  [UNKNOWN, "<5 / ?"],
];

/** Colours of a unit map (thematic and service views): withheld and no data are apart. */
export const WITHHELD = "#90a4ae";
export const NO_DATA = "#eceff1";

/**
 * Class breaks (lower bounds, ascending, from 0) for counts: about five classes of similar
 * size over the values, rounded to 1, 2 or 5 times a power of ten.
 */
export function countBreaks(values) {
  const known = values.filter((v) => typeof v === "number" && v > 0).sort((a, b) => a - b);
  const breaks = [0, 1];
  for (const q of [0.25, 0.5, 0.75, 0.9]) {
    const v = known[Math.floor(q * (known.length - 1))];
    if (!v) continue;
    const pow = 10 ** Math.floor(Math.log10(v));
    const nice = [5, 2, 1].map((m) => m * pow).find((n) => n <= v);
    if (nice > breaks[breaks.length - 1]) breaks.push(nice);
  }
  return breaks;
}

/** The colour of a value in classes of `breaks` (null: withheld; undefined/NaN: no data). */
export function classColour(value, breaks, colours = WARM) {
  if (value === null) return WITHHELD;
  if (value === undefined || Number.isNaN(value)) return NO_DATA;
  let colour = colours[0];
  breaks.forEach((lo, i) => {
    if (value >= lo) colour = colours[Math.min(i, colours.length - 1)];
  });
  return colour;
}

/** Legend rows [colour, label] of class breaks; `label(lo, hi)` writes a class. */
export function classLegend(breaks, label, colours = WARM) {
  const rows = breaks.map((lo, i) => [colours[Math.min(i, colours.length - 1)], label(lo, breaks[i + 1])]);
  return rows.concat([[WITHHELD, t("withheldLong")], [NO_DATA, t("noData")]]);
}

/** Draw legend rows into a <ul>. */
export function drawLegend(ul, rows) {
  ul.replaceChildren(
    ...rows.map(([colour, text]) => {
      const li = document.createElement("li");
      const i = document.createElement("i");
      i.style.background = colour;
      li.append(i, text);
      return li;
    }),
  );
}

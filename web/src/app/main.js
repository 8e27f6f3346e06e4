// citytwin in the browser: the map and 3D twin, search, blocks panel and building inspector.
// Everything comes from the server that serves this page (bundled CesiumJS, the API, 3D Tiles):
// no request leaves it.
//
// Query parameters: api_key (sent as "Authorization: Bearer"), lang (zh | en), tileset (URL
// of a tileset.json, default /3dtiles/city/tileset.json), stat (the statistic to colour by),
// render=cesium (CesiumJS's own lighting table and translucency, to compare load times).
// window.twinApp is the page's small test interface (tests/browser/).

import { ScreenSpaceEventHandler, ScreenSpaceEventType } from "@cesium/engine";
import { getJson, hasKey, initKey, setKey } from "./api.js";
import { BlocksPanel } from "./blocks.js";
import { initLanguage, onLanguageChange, setLanguage, t } from "./i18n.js";
import { Inspector } from "./inspector.js";
import { TwinMap } from "./map.js";
import { ModelLayer } from "./models.js";
import { OfflineArchive } from "./offline.js";
import { ReviewPanel } from "./review.js";
import { setupSearch } from "./search.js";
import { ServicesPanel } from "./services.js";
import { StreetLayer } from "./streets.js";
import { STATISTICS, buildingStyle, legendRows } from "./stats.js";
import { ThematicPanel } from "./thematic.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(window.location.search);

/**
 * The panels of the left column, one tab each: an entry here and a <section data-panel="id">
 * in index.html; `open` (if any) runs each time the tab is chosen, once the key is known.
 */
const PANELS = [
  { id: "blocks", label: "tab.blocks" },
  { id: "layers", label: "tab.layers" },
  { id: "review", label: "tab.review", open: () => review.load() },
  { id: "thematic", label: "tab.thematic", open: () => thematic.refresh() },
  { id: "services", label: "tab.services", open: () => services.answer || services.load() },
];

const state = {
  lang: initLanguage(params),
  stat: params.get("stat") in STATISTICS ? params.get("stat") : "people",
  me: null,
  block: null,
  inspecting: null,
  selected: null,
  hidden: null,
  replaced: [],
  errors: [],
  searches: 0,
  lastSearch: null,
  flights: 0,
  readyMs: null,
  tilesLoaded: 0,
  timings: {},
  showError(err) {
    const text = String(err && err.message ? err.message : err);
    state.errors.push(text);
    if (err && err.stack) console.warn(err.stack);
    $("status").textContent = text;
  },
};

const map = new TwinMap("map");
const streets = new StreetLayer(map, state);

function restyle() {
  if (map.tileset) {
    map.tileset.style = buildingStyle(state.stat, {
      selected: state.selected,
      hidden: state.hidden,
      replaced: state.replaced,
    });
  }
  $("legend-title").textContent = t(`stat.${state.stat}`);
  $("legend-rows").replaceChildren(
    ...legendRows(state.stat).map(([colour, label]) => {
      const li = document.createElement("li");
      const i = document.createElement("i");
      i.style.background = colour;
      li.append(i, label);
      return li;
    }),
  );
  map.scene.requestRender();
}

const blocks = new BlocksPanel({
  crumbs: $("crumbs"),
  numbers: $("block-numbers"),
  children: $("block-children"),
  map,
  state,
  onBuilding: (code) => selectBuilding(code),
  // The thematic map follows the blocks panel: communities, or the grids of the one shown.
  onChange: () => {
    if (state.panel === "thematic") thematic.refresh().catch((err) => state.showError(err));
  },
  // Going up to a unit puts an opened building back together (its floors closed).
  onLeaveBuilding: () => {
    if (inspector.card && inspector.floor !== null) {
      inspector.showFloor(null).catch((err) => state.showError(err));
    }
  },
});

const inspector = new Inspector({
  root: $("inspector"),
  body: $("insp-body"),
  map,
  state,
  onClose: () => {
    state.selected = null;
    state.hidden = null;
    restyle();
  },
  onFloor: (hiddenCode) => {
    state.hidden = hiddenCode;
    restyle();
  },
});

/** Show a unit in the blocks panel (the analysis panels' rows and the review queue). */
const showUnit = (code, fly = true) => blocks.show(code, { fly }).catch((err) => state.showError(err));
const communities = () => state.units.community;

const review = new ReviewPanel({
  root: $("panel-review"),
  map,
  state,
  onBuilding: (code) => selectBuilding(code, { fly: true }),
  onUnit: showUnit,
});
// A shown BIM model linked to a building stands in for the city's extruded building.
const models = new ModelLayer({ root: $("panel-layers"), map, state, onReplaced: () => restyle() });
const thematic = new ThematicPanel({ root: $("panel-thematic"), map, state, communities, onUnit: showUnit });
const services = new ServicesPanel({ root: $("panel-services"), map, state, communities, onUnit: showUnit });
// A PMTiles archive from this computer, drawn without the server ("打开离线包").
const offline = new OfflineArchive({ input: $("offline-input"), root: $("offline"), map });

/** Select a building: highlight it, open the inspector, put it in the breadcrumb. */
async function selectBuilding(code, { fly = false } = {}) {
  state.selected = code;
  state.hidden = null;
  map.showInterior(null, null);
  restyle();
  const card = await inspector.open(code);
  if (fly) {
    map.flyToPoint(card.location[0], card.location[1], Math.max(250, card.height_m * 4));
    state.flights += 1;
  }
  await blocks.showPath(card.path, { fly: false });
  return card;
}

async function chooseCandidate(r) {
  state.chosen = r;
  if (r.building) {
    await selectBuilding(r.building, { fly: true });
  } else if (r.level in { district: 1, street: 1, community: 1, grid: 1 }) {
    state.flights += 1;
    await blocks.show(r.code);
  } else {
    state.flights += 1;
    map.flyToPoint(r.lon, r.lat, 600);
  }
}

function setupTabs() {
  const tabs = $("tabs");
  const show = (id) => {
    for (const b of tabs.children) b.setAttribute("aria-selected", String(b.dataset.panel === id));
    for (const s of document.querySelectorAll("#side .panel")) s.hidden = s.dataset.panel !== id;
    const panel = PANELS.find((p) => p.id === id);
    state.panel = id;
    if (panel.open) {
      state.panelLoads = ready
        .then(() => panel.open())
        .catch((err) => state.showError(err));
    }
    return state.panelLoads;
  };
  state.showPanel = show;
  for (const p of PANELS) {
    const b = document.createElement("button");
    b.type = "button";
    b.dataset.panel = p.id;
    b.dataset.i18n = p.label;
    b.textContent = t(p.label);
    b.setAttribute("role", "tab");
    b.addEventListener("click", () => show(p.id));
    tabs.append(b);
  }
  show(PANELS[0].id);
  for (const box of document.querySelectorAll("[data-layer]")) {
    box.addEventListener("change", () => {
      if (box.dataset.layer === "streets") streets.setVisible(box.checked);
      else map.setVisible(box.dataset.layer, box.checked);
    });
  }
}

function setupControls() {
  const needle = $("needle");
  const scaleBar = $("scale-bar");
  const scaleLabel = $("scale-label");
  const update = () => {
    needle.setAttribute("transform", `rotate(${(-map.camera.heading * 180) / Math.PI} 20 20)`);
    const canvas = map.scene.canvas;
    const y = canvas.clientHeight - 30;
    const x = canvas.clientWidth / 2;
    const metres = map.groundDistance({ x, y }, { x: x + 100, y });
    if (!metres) return;
    const perPixel = metres / 100;
    const pow = 10 ** Math.floor(Math.log10(perPixel * 100));
    const nice = [5, 2, 1].map((m) => m * pow).find((d) => d / perPixel <= 120) || pow;
    scaleBar.style.width = `${Math.round(nice / perPixel)}px`;
    scaleLabel.textContent = nice >= 1000 ? `${nice / 1000} km` : `${nice} m`;
    state.scale = scaleLabel.textContent;
  };
  map.scene.postRender.addEventListener(() => {
    if (!update.queued) {
      update.queued = true;
      requestAnimationFrame(() => {
        update.queued = false;
        update();
        if (state.readyMs !== null) streets.update().catch((err) => state.showError(err));
      });
    }
  });
  $("compass").addEventListener("click", () => map.northUp());
  $("reset").addEventListener("click", () => map.resetView());
  $("zoom-in").addEventListener("click", () => map.zoom(0.5));
  $("zoom-out").addEventListener("click", () => map.zoom(2));
  $("tilt").addEventListener("click", () => {
    $("tilt").textContent = map.toggleTilt() ? "2D" : "3D";
  });
  $("stat-select").value = state.stat;
  $("stat-select").addEventListener("change", (ev) => {
    state.stat = ev.target.value;
    restyle();
  });
  $("insp-close").addEventListener("click", () => inspector.close());
  for (const b of document.querySelectorAll("#lang button")) {
    b.classList.toggle("on", b.dataset.lang === state.lang);
    b.addEventListener("click", () => setLanguage(b.dataset.lang));
  }
  onLanguageChange((lang) => {
    state.lang = lang;
    for (const b of document.querySelectorAll("#lang button")) b.classList.toggle("on", b.dataset.lang === lang);
    blocks.render();
    inspector.render();
    search.rerender();
    review.render();
    models.render();
    thematic.render();
    services.render();
    restyle();
  });
}

function setupPicking() {
  const handler = new ScreenSpaceEventHandler(map.scene.canvas);
  handler.setInputAction((click) => {
    const hit = map.pickAt(click.position.x, click.position.y);
    state.lastPick = hit;
    if (!hit) return;
    // The review queue picking a correction: a building, room or model fills its code (and
    // is then shown as usual: a building inspected, so that a floor's rooms can be picked).
    review.pick(hit);
    if (hit.kind === "building") {
      selectBuilding(String(hit.properties.code)).catch((err) => state.showError(err));
    } else if (hit.kind === "room") {
      inspector.showRoom(hit);
    } else if (hit.kind === "model") {
      models.showPicked(hit);
    } else if (hit.kind === "unit") {
      blocks.show(hit.code).catch((err) => state.showError(err));
    }
  }, ScreenSpaceEventType.LEFT_CLICK);
}

/** Ask for a key when the page has none (or the server refused it). */
function askKey() {
  return new Promise((resolve) => {
    const dialog = $("key-dialog");
    dialog.addEventListener("close", () => {
      setKey($("key-input").value.trim());
      resolve();
    }, { once: true });
    dialog.showModal();
  });
}

async function whoAmI() {
  if (!hasKey()) await askKey(); // asking the server without a key would only be refused
  for (;;) {
    try {
      return await getJson("/api/v1/viewer/me");
    } catch (err) {
      if (err.status !== 401) throw err;
      await askKey();
    }
  }
}

async function loadBoundaries() {
  const levels = ["district", "street", "community"];
  const all = await Promise.all(levels.map((level) => getJson(`/api/v1/units?level=${level}`)));
  mark("unitsFetched");
  levels.forEach((level, i) => map.setUnits(level, all[i]));
  mark("unitsDrawn");
  state.units = Object.fromEntries(levels.map((level, i) => [level, all[i]]));
  return state.units;
}

/** Draw the city's 3D Tiles (prepared meanwhile); resolves when the first view's tiles are in. */
async function loadTwin(prepared) {
  const tileset = map.addTileset(await prepared);
  mark("tileset");
  tileset.tileLoad.addEventListener(() => {
    state.tilesLoaded += 1;
    if (!state.timings.firstTile) mark("firstTile");
  });
  tileset.tileFailed.addEventListener((err) => state.showError(`${err.url}: ${err.message}`));
  map.setVisible("buildings", map.visible.buildings);
  restyle();
  await new Promise((resolve) => {
    tileset.initialTilesLoaded.addEventListener(() => resolve());
    setTimeout(resolve, 30000);
  });
  mark("buildings");
  return tileset;
}

/** The extent of the streets that have buildings (else of every district): the home view. */
function homeBox(units) {
  const withBuildings = units.street.features.filter((f) => f.properties.buildings > 0);
  const features = withBuildings.length ? withBuildings : units.district.features;
  const coords = features.flatMap((f) => f.geometry.coordinates.flat(f.geometry.type === "Polygon" ? 1 : 2));
  if (!coords.length) return null;
  const xs = coords.map((c) => c[0]);
  const ys = coords.map((c) => c[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

// The main thread's long tasks [start, ms] (for the load figures: without a GPU, the longest
// is the page waiting for Chromium's GPU process to prepare the buildings' drawing).
state.longTasks = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) state.longTasks.push([Math.round(e.startTime), Math.round(e.duration)]);
}).observe({ type: "longtask", buffered: true });
setupTabs();
const search = setupSearch({
  input: $("search-input"),
  list: $("search-results"),
  onChoose: (r) => chooseCandidate(r).catch((err) => state.showError(err)),
  state,
});
setupControls();
setupPicking();
restyle();
initKey(params);
if (params.has("api_key")) {
  // Keep the key out of the address bar (and of anything that copies it).
  params.delete("api_key");
  const rest = params.toString();
  window.history.replaceState(null, "", window.location.pathname + (rest ? `?${rest}` : ""));
}

const mark = (name) => {
  state.timings[name] = Math.round(performance.now());
};
mark("script");
// The app first: boundaries, labels and the blocks panel; then the 3D buildings, whose first
// drawing (WebGL programs compiled once) must not hold up the rest of the page.
const ready = (async () => {
  // With a key, ask who it is and fetch the boundaries at once; without one (or with a key
  // the server refuses), the boundaries wait for a key that works.
  const early = hasKey() ? loadBoundaries().catch((err) => err) : null;
  state.me = await whoAmI();
  mark("me");
  let units = early ? await early : null;
  if (!units || units instanceof Error) {
    if (units && units.status !== 401) throw units;
    units = await loadBoundaries();
  }
  await blocks.show(null, { districts: units.district });
  const box = homeBox(units);
  if (box) {
    map.setHomeBox(box);
    map.flyToBox(box, 0);
  }
  mark("ready");
  state.readyMs = state.timings.ready;
  document.body.dataset.ready = "true";
  return state;
})().catch((err) => {
  state.showError(err);
  throw err;
});
// The city's tileset.json and first tiles are fetched while the app starts, and drawn once the
// app is ready (their first drawing compiles WebGL programs, which holds the page up).
const tilesetUrl = params.get("tileset") || "/3dtiles/city/tileset.json";
const prepared = (hasKey() ? Promise.resolve() : ready).then(() => map.prepareTileset(tilesetUrl));
prepared.catch(() => null); // handled below, once the app is ready
const twin = ready
  .then(() => loadTwin(prepared.catch(() => map.prepareTileset(tilesetUrl)))) // a refused key: again
  .catch((err) => state.showError(err));
// BIM models and point clouds once the city's buildings are drawn.
const modelsLoaded = twin.then(() => models.load()).catch((err) => state.showError(err));

/** Resolve once every tile the view needs is loaded (or reject on timeout). */
function whenLoaded(timeoutMs = 60000) {
  return Promise.all([ready, twin]).then(
    () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("tiles did not load in time")), timeoutMs);
        const check = () => {
          map.scene.requestRender();
          if (!map.tileset || map.tileset.tilesLoaded) {
            clearTimeout(timer);
            resolve(state.tilesLoaded);
          } else {
            setTimeout(check, 100);
          }
        };
        check();
      }),
  );
}

/**
 * Whether the city's building of a code is drawn: true, false (hidden by the style), or null
 * when no loaded tile holds it.
 */
function buildingShown(code) {
  const tiles = map.tileset ? [map.tileset.root] : [];
  while (tiles.length) {
    const tile = tiles.pop();
    tiles.push(...tile.children);
    const content = tile.contentReady ? tile.content : null;
    for (let i = 0; content && i < content.featuresLength; i += 1) {
      const feature = content.getFeature(i);
      if (String(feature.getProperty("code")) === code) return feature.show;
    }
  }
  return null;
}

window.twinApp = {
  buildingShown,
  state,
  ready,
  whenLoaded,
  map,
  blocks,
  inspector,
  review,
  models,
  modelsLoaded,
  thematic,
  services,
  offline,
  showPanel: (id) => state.showPanel(id),
  selectBuilding,
  pickAt: (x, y) => map.pickAt(x, y),
  toWindow: (lon, lat, h) => map.toWindow(lon, lat, h),
  lookAt: (lon, lat, height, range, pitch) => map.lookAt(lon, lat, height, range, pitch),
};

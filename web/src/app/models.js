// Imported models: BIM models (IFC), point clouds (LAS/LAZ) and CityJSON tilesets, as
// GET /api/v1/models lists them (cut to the key's scope by the server). Each is a
// Cesium3DTileset of its own, added once the city's buildings are drawn (their first drawing
// comes first); each can be shown or hidden and flown to. Point clouds take a point size and a
// colouring: the file's colours, by ASPRS class, or one colour. A click on a model's element
// or point shows what it is (IFC type, name, storey; a point's class). While a model linked to a
// building (a BIM model of one of the city's buildings) is shown, the city's extruded building
// of that code is hidden (`onReplaced` gets the codes: the city tileset's style hides them).
// The list is a section of the layers tab, made here.

import {
  BoundingSphere,
  Cesium3DTileColorBlendMode,
  Cesium3DTileStyle,
  Cesium3DTileset,
  Resource,
} from "@cesium/engine";
import { authHeaders, getJson } from "./api.js";
import { addStrings, t } from "./i18n.js";

addStrings({
  zh: {
    "models.title": "BIM 模型与点云",
    "models.none": "尚未导入 BIM 模型或点云（twin 3d import-ifc / import-las）",
    "models.kind.bim": "BIM",
    "models.kind.pointcloud": "点云",
    "models.kind.cityjson": "CityJSON",
    "models.fly": "定位",
    "models.building": "楼栋 {code}",
    "models.pointSize": "点大小",
    "models.colour": "点颜色",
    "models.colour.rgb": "原始颜色",
    "models.colour.class": "按分类",
    "models.colour.single": "单色",
    "models.picked.ifc": "{type} · {name} · {storey}",
    "models.picked.point": "点云分类：{name}（{class}）",
  },
  en: {
    "models.title": "BIM models and point clouds",
    "models.none": "No BIM model or point cloud imported yet (twin 3d import-ifc / import-las)",
    "models.kind.bim": "BIM",
    "models.kind.pointcloud": "Point cloud",
    "models.kind.cityjson": "CityJSON",
    "models.fly": "Fly to",
    "models.building": "Building {code}",
    "models.pointSize": "Point size",
    "models.colour": "Point colour",
    "models.colour.rgb": "As scanned",
    "models.colour.class": "By class",
    "models.colour.single": "One colour",
    "models.picked.ifc": "{type} · {name} · {storey}",
    "models.picked.point": "Point class: {name} ({class})",
  },
});

/** ASPRS classes (LAS 1.4) and their colours; the others grey. */
const CLASS_COLOURS = {
  2: "#a1887f", // ground
  3: "#c5e1a5", // low vegetation
  4: "#8bc34a", // medium vegetation
  5: "#33691e", // high vegetation
  6: "#e53935", // building
  9: "#1e88e5", // water
  17: "#8e24aa", // bridge deck
};
const SINGLE = "#00acc1";

/** The style of a point cloud's colouring (undefined: the file's own colours). */
export function pointStyle(colouring) {
  if (colouring === "class") {
    const conditions = Object.entries(CLASS_COLOURS).map(([c, colour]) => [`\${class} === ${c}`, `color('${colour}')`]);
    conditions.push(["true", "color('#9e9e9e')"]);
    return new Cesium3DTileStyle({ color: { conditions } });
  }
  if (colouring === "single") return new Cesium3DTileStyle({ color: `color('${SINGLE}')` });
  return undefined;
}

export class ModelLayer {
  constructor({ root, map, state, onReplaced = () => {} }) {
    this.map = map;
    this.state = state;
    this.onReplaced = onReplaced;
    this.models = [];
    /** path → Cesium3DTileset, and path → tiles loaded so far. */
    this.tilesets = {};
    this.tilesLoaded = {};
    this.pointSize = 3;
    this.colouring = "rgb";
    this.picked = null;
    this.section = this.makeSection(root);
    this.render();
  }

  makeSection(root) {
    const section = document.createElement("div");
    section.id = "models";
    const h = document.createElement("h3");
    h.className = "legend-title";
    const list = document.createElement("ul");
    list.id = "model-list";
    list.className = "list";
    const note = document.createElement("p");
    note.className = "note";
    const points = document.createElement("div");
    points.id = "model-points";
    const sizeLabel = document.createElement("label");
    const size = document.createElement("input");
    Object.assign(size, { type: "range", min: "1", max: "10", step: "1", id: "model-point-size" });
    size.value = String(this.pointSize);
    size.addEventListener("input", () => this.setPointSize(Number(size.value)));
    const sizeText = document.createElement("span");
    sizeLabel.append(sizeText, size);
    const colourLabel = document.createElement("label");
    const colour = document.createElement("select");
    colour.id = "model-point-colour";
    for (const value of ["rgb", "class", "single"]) colour.append(new Option(value, value));
    colour.addEventListener("change", () => this.setColouring(colour.value));
    const colourText = document.createElement("span");
    colourLabel.append(colourText, colour);
    points.append(sizeLabel, colourLabel);
    const picked = document.createElement("p");
    picked.id = "model-picked";
    picked.className = "room-info";
    section.append(h, note, list, points, picked);
    root.append(section);
    return { h, list, note, points, sizeText, colourText, colour, picked };
  }

  /** Fetch the list, draw it and add every model's tileset to the scene. */
  async load() {
    const { models } = await getJson("/api/v1/models");
    this.models = models;
    this.render();
    await Promise.all(
      models.map((m) => this.add(m).catch((err) => this.state.showError(`${m.path}: ${err.message || err}`))),
    );
    this.state.modelsAdded = Object.keys(this.tilesets).length;
    return this.models;
  }

  async add(m) {
    const cloud = m.kind === "pointcloud";
    const tileset = await Cesium3DTileset.fromUrl(new Resource({ url: m.url, headers: authHeaders() }), {
      environmentMapOptions: { enabled: false },
    });
    // A point's class colour replaces its scanned colour instead of tinting it.
    if (cloud) tileset.colorBlendMode = Cesium3DTileColorBlendMode.REPLACE;
    this.tilesLoaded[m.path] = 0;
    tileset.tileLoad.addEventListener(() => {
      this.tilesLoaded[m.path] += 1;
    });
    tileset.tileFailed.addEventListener((err) => this.state.showError(`${err.url}: ${err.message}`));
    if (cloud) {
      // Points grow with closeness up to the chosen size (px); one pixel would be invisible.
      tileset.pointCloudShading.attenuation = true;
      tileset.pointCloudShading.maximumAttenuation = this.pointSize;
      tileset.style = pointStyle(this.colouring);
    }
    tileset.twinModel = m;
    this.tilesets[m.path] = tileset;
    this.map.scene.primitives.add(tileset);
    this.replacedChanged();
    this.map.scene.requestRender();
  }

  /** The codes of the buildings whose linked model is in the scene and shown. */
  replaced() {
    return Object.values(this.tilesets)
      .filter((ts) => ts.show && ts.twinModel.building)
      .map((ts) => ts.twinModel.building)
      .sort();
  }

  replacedChanged() {
    this.state.replaced = this.replaced();
    this.onReplaced(this.state.replaced);
  }

  clouds() {
    return Object.values(this.tilesets).filter((ts) => ts.twinModel.kind === "pointcloud");
  }

  setPointSize(px) {
    this.pointSize = px;
    for (const ts of this.clouds()) ts.pointCloudShading.maximumAttenuation = px;
    this.map.scene.requestRender();
  }

  setColouring(colouring) {
    this.colouring = colouring;
    this.section.colour.value = colouring;
    for (const ts of this.clouds()) ts.style = pointStyle(colouring);
    this.map.scene.requestRender();
  }

  /** Show or hide one model. */
  setShown(path, on) {
    const ts = this.tilesets[path];
    if (ts) ts.show = on;
    this.replacedChanged();
    this.map.scene.requestRender();
  }

  /** Fly to one model (its tileset's bounding sphere). */
  flyTo(path) {
    const ts = this.tilesets[path];
    if (!ts) return;
    this.setShown(path, true);
    const box = this.section.list.querySelector(`li[data-path="${path}"] input`);
    if (box) box.checked = true;
    // A small model (a house) seen whole from a street's width away, not filling the view.
    const sphere = ts.boundingSphere;
    this.map.flyToSphere(new BoundingSphere(sphere.center, Math.max(sphere.radius, 25)));
    this.state.flights += 1;
  }

  /** Resolve once a model's tiles in view are loaded, at least one (or reject on timeout). */
  whenLoaded(path, timeoutMs = 60000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${path}: tiles did not load in time`)), timeoutMs);
      const check = () => {
        const ts = this.tilesets[path];
        this.map.scene.requestRender();
        if (ts && ts.tilesLoaded && this.tilesLoaded[path] > 0) {
          clearTimeout(timer);
          resolve(this.tilesLoaded[path]);
        } else {
          setTimeout(check, 100);
        }
      };
      check();
    });
  }

  /** Show what a click on a model hit (hit.properties of the feature). */
  showPicked(hit) {
    this.picked = hit;
    this.render();
  }

  pickedText() {
    const p = this.picked && this.picked.properties;
    if (!p) return "";
    if (p.ifc_type !== undefined || p.global_id !== undefined) {
      const storey = p.storey || (p.floor_no !== undefined ? String(p.floor_no) : "—");
      return t("models.picked.ifc", { type: p.ifc_type || "IfcSpace", name: p.name || p.room_code || "—", storey });
    }
    if (p.class !== undefined) return t("models.picked.point", { name: p.name, class: p.class });
    return Object.entries(p).map(([k, v]) => `${k}: ${v}`).join(" · ");
  }

  render() {
    const s = this.section;
    s.h.textContent = t("models.title");
    s.note.textContent = t("models.none");
    s.note.hidden = this.models.length > 0;
    s.points.hidden = !this.models.some((m) => m.kind === "pointcloud");
    s.sizeText.textContent = `${t("models.pointSize")} `;
    s.colourText.textContent = `${t("models.colour")} `;
    for (const option of s.colour.options) option.textContent = t(`models.colour.${option.value}`);
    s.picked.textContent = this.pickedText();
    s.picked.hidden = !this.picked;
    s.list.replaceChildren(...this.models.map((m) => this.row(m)));
  }

  row(m) {
    const li = document.createElement("li");
    li.dataset.path = m.path;
    li.dataset.kind = m.kind;
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.checked = !this.tilesets[m.path] || this.tilesets[m.path].show;
    box.addEventListener("change", () => this.setShown(m.path, box.checked));
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = t(`models.kind.${m.kind}`);
    const name = document.createElement("b");
    name.textContent = m.name;
    label.append(box, " ", badge, " ", name);
    if (m.building) {
      const b = document.createElement("span");
      b.className = "muted";
      b.textContent = ` ${t("models.building", { code: m.building })}`;
      label.append(b);
    }
    const fly = document.createElement("button");
    fly.type = "button";
    fly.dataset.action = "fly";
    fly.textContent = t("models.fly");
    fly.addEventListener("click", () => this.flyTo(m.path));
    li.append(label, fly);
    return li;
  }
}

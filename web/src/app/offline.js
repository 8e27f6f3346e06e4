// Offline archives: a PMTiles v3 file of the twin's vector tiles (`twin tiles export`), chosen
// on this computer with "打开离线包", is read where it lies (pmtiles' FileSource reads slices of
// the File: nothing is uploaded, no request is made). Its header and metadata are shown, and the
// tiles covering its bounds, at the deepest zoom that needs at most TILE_BUDGET of them, are
// decoded (@mapbox/vector-tile) and drawn in the scene: boundaries as outlines with their names,
// buildings as extruded footprints, roads as lines, door plates, entities and event counts as
// points with labels. The camera flies to the archive's bounds.
//
// Each tile's features are cut to the tile's own square (MVT geometries reach into a buffer
// beyond it), so a feature split over tiles is drawn once, in pieces that meet at the edges.
// `summary` says what was read and drawn: per layer, the features of the tiles read that reach
// into their tile (by code, or id), which tests compare with the archive.

import {
  Cartesian3,
  Color,
  ColorGeometryInstanceAttribute,
  DistanceDisplayCondition,
  Ellipsoid,
  GeometryInstance,
  LabelCollection,
  Material,
  Math as CesiumMath,
  PerInstanceColorAppearance,
  PointPrimitiveCollection,
  PolygonGeometry,
  PolygonHierarchy,
  PolylineCollection,
  Primitive,
} from "@cesium/engine";
import { VectorTile } from "@mapbox/vector-tile";
import Pbf from "pbf";
import { FileSource, PMTiles, TileType } from "pmtiles";
import { onLanguageChange, t } from "./i18n.js";
import { addLabel } from "./streets.js";

/** The most tiles one archive's view reads (those nearest its centre first). */
const TILE_BUDGET = 64;
/** The PMTiles v3 header: "PMTiles" then the version byte, 127 bytes in all. */
const MAGIC = "PMTiles";
const HEADER_BYTES = 127;
/** Boundary layers: outline colour and width, from how far (m) they and their names show. */
const ADMIN = {
  districts: { colour: "#37474f", width: 3, far: 4e6, font: "bold 17px", labelFar: 2e5 },
  streets: { colour: "#5c6bc0", width: 2.5, far: 2e5, font: "bold 15px", labelFar: 6e4 },
  communities: { colour: "#7e57c2", width: 1.8, far: 4e4, font: "14px", labelFar: 1.5e4 },
  grids: { colour: "#9e9e9e", width: 1.2, far: 8e3, font: "12px", labelFar: 3e3 },
};
/** Point layers: colour and the label of a feature. */
const POINTS = {
  addresses: { colour: "#00695c", text: (p) => p.door_no || p.text, far: 800 },
  entities: { colour: "#2a9d8f", text: (p) => p.name, far: 3000 },
  events: { colour: "#d62828", text: (p) => (p.events ? String(p.events) : ""), far: 2e4 },
};
/** The layers' names in the panel (keys of i18n.js). */
const LAYER_LABEL = {
  districts: "level.district",
  streets: "level.street",
  communities: "level.community",
  grids: "level.grid",
  buildings: "level.building",
  roads: "level.road",
  addresses: "level.door",
  entities: "offline.entities",
  events: "events",
};

/** Check a file's first bytes; return null when it is a PMTiles v3 archive, else why not. */
export async function checkArchive(file) {
  if (file.size < HEADER_BYTES) return { key: "offline.notPmtiles" };
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (String.fromCharCode(...head.slice(0, 7)) !== MAGIC) return { key: "offline.notPmtiles" };
  if (head[7] !== 3) return { key: "offline.version", vars: { v: head[7] } };
  return null;
}

/** The tile x, y of a point at zoom z (Web Mercator, clamped to the grid). */
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const rad = (Math.max(Math.min(lat, 85.0511), -85.0511) * Math.PI) / 180;
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return [Math.min(Math.max(x, 0), n - 1), Math.min(Math.max(y, 0), n - 1)];
}

/**
 * The tiles to read for bounds [w, s, e, n]: at the deepest zoom of the archive whose covering
 * needs at most TILE_BUDGET tiles (else the archive's least zoom, nearest the centre first).
 */
export function tilesFor(bounds, minZoom, maxZoom) {
  const [w, s, e, n] = bounds;
  let z = maxZoom;
  const span = (zoom) => {
    const [x0, y0] = tileOf(w, n, zoom);
    const [x1, y1] = tileOf(e, s, zoom);
    return [x0, y0, x1, y1];
  };
  while (z > minZoom) {
    const [x0, y0, x1, y1] = span(z);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) <= TILE_BUDGET) break;
    z -= 1;
  }
  const [x0, y0, x1, y1] = span(z);
  const tiles = [];
  for (let x = x0; x <= x1; x += 1) for (let y = y0; y <= y1; y += 1) tiles.push([x, y]);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  tiles.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
  return { z, tiles: tiles.slice(0, TILE_BUDGET), truncated: tiles.length > TILE_BUDGET };
}

// ---- geometry in tile coordinates (0..extent, y down) ----

function signedArea(ring) {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
    sum += (ring[j].x - ring[i].x) * (ring[i].y + ring[j].y);
  }
  return sum / 2;
}

/** The outer rings of a polygon feature (MVT: the first ring's winding marks outer rings). */
function outerRings(rings) {
  const outer = [];
  let sign = 0;
  for (const ring of rings) {
    const area = signedArea(ring);
    if (area === 0) continue;
    if (sign === 0) sign = Math.sign(area);
    if (Math.sign(area) === sign) outer.push(ring);
  }
  return outer;
}

/** A ring cut to the square 0..size (Sutherland–Hodgman); [] when nothing is inside. */
function clipRing(ring, size) {
  const edges = [
    [(p) => p.x >= 0, (a, b) => cut(a, b, (0 - a.x) / (b.x - a.x))],
    [(p) => p.x <= size, (a, b) => cut(a, b, (size - a.x) / (b.x - a.x))],
    [(p) => p.y >= 0, (a, b) => cut(a, b, (0 - a.y) / (b.y - a.y))],
    [(p) => p.y <= size, (a, b) => cut(a, b, (size - a.y) / (b.y - a.y))],
  ];
  let out = ring;
  for (const [inside, cross] of edges) {
    const input = out;
    out = [];
    for (let i = 0; i < input.length; i += 1) {
      const a = input[(i + input.length - 1) % input.length];
      const b = input[i];
      if (inside(b)) {
        if (!inside(a)) out.push(cross(a, b));
        out.push(b);
      } else if (inside(a)) {
        out.push(cross(a, b));
      }
    }
    if (!out.length) return [];
  }
  return Math.abs(signedArea(out)) > 0 ? out : [];
}

function cut(a, b, f) {
  return { x: a.x + (b.x - a.x) * f, y: a.y + (b.y - a.y) * f };
}

/** A line cut to the square 0..size (Liang–Barsky per segment): the pieces inside. */
function clipLine(line, size) {
  const pieces = [];
  let piece = null;
  for (let i = 1; i < line.length; i += 1) {
    const seg = clipSegment(line[i - 1], line[i], size);
    if (!seg) {
      piece = null;
      continue;
    }
    const [a, b] = seg;
    if (piece && piece[piece.length - 1].x === a.x && piece[piece.length - 1].y === a.y) {
      piece.push(b);
    } else {
      piece = [a, b];
      pieces.push(piece);
    }
  }
  return pieces.filter((p) => p.some((q) => q.x !== p[0].x || q.y !== p[0].y));
}

function clipSegment(a, b, size) {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  let t0 = 0;
  let t1 = 1;
  for (const [p, q] of [[-dx, a.x], [dx, size - a.x], [-dy, a.y], [dy, size - a.y]]) {
    if (p === 0) {
      if (q < 0) return null;
    } else {
      const r = q / p;
      if (p < 0) t0 = Math.max(t0, r);
      else t1 = Math.min(t1, r);
    }
  }
  if (t0 > t1) return null;
  return [cut(a, b, t0), cut(a, b, t1)];
}

/** Tile coordinates of tile z/x/y → [lon, lat] in degrees. */
function lonLat(z, x, y, extent) {
  const n = 2 ** z;
  return (p) => {
    const lon = ((x + p.x / extent) / n) * 360 - 180;
    const merc = Math.PI * (1 - (2 * (y + p.y / extent)) / n);
    return [lon, (Math.atan(Math.sinh(merc)) * 180) / Math.PI];
  };
}

function widen(box, points) {
  for (const [lon, lat] of points) {
    box[0] = Math.min(box[0], lon);
    box[1] = Math.min(box[1], lat);
    box[2] = Math.max(box[2], lon);
    box[3] = Math.max(box[3], lat);
  }
  return box;
}

const EMPTY_BOX = () => [Infinity, Infinity, -Infinity, -Infinity];

/** The panel of an opened archive and its drawing in the scene. */
export class OfflineArchive {
  /**
   * @param {object} o
   * @param {HTMLInputElement} o.input the file input ("打开离线包")
   * @param {HTMLElement} o.root the card that shows the archive (hidden until one is opened)
   * @param {object} o.map the TwinMap
   */
  constructor({ input, root, map }) {
    this.input = input;
    this.root = root;
    this.map = map;
    this.summary = null;
    this.error = null;
    this.busy = null;
    this.drawn = [];
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      input.value = ""; // the same file may be chosen again
      if (file) this.busy = this.open(file);
    });
    onLanguageChange(() => this.render());
  }

  /** Read and draw an archive; resolves with the summary, or null (the error is shown). */
  async open(file) {
    const started = performance.now();
    this.close();
    this.root.hidden = false;
    this.reading = file.name;
    this.render();
    try {
      const problem = await checkArchive(file);
      if (problem) return this.fail(problem.key, { name: file.name, ...problem.vars });
      const archive = new PMTiles(new FileSource(file));
      const header = await archive.getHeader();
      if (header.tileType !== TileType.Mvt) return this.fail("offline.notVector", { name: file.name });
      const metadata = (await archive.getMetadata()) || {};
      const bounds = [header.minLon, header.minLat, header.maxLon, header.maxLat];
      this.archive = archive;
      this.summary = {
        name: file.name,
        size: file.size,
        layers: (metadata.vector_layers || []).map((l) => ({ id: l.id, minzoom: l.minzoom, maxzoom: l.maxzoom })),
        minZoom: header.minZoom,
        maxZoom: header.maxZoom,
        bounds,
        addressedTiles: header.numAddressedTiles,
      };
      await this.draw(bounds);
      this.summary.ms = Math.round(performance.now() - started);
      this.map.flyToBox(bounds);
      this.reading = null;
      this.render();
      return this.summary;
    } catch (err) {
      this.summary = null; // nothing half-read is shown
      this.removeDrawing();
      return this.fail("offline.unreadable", { name: file.name, detail: String(err && err.message ? err.message : err) });
    } finally {
      this.reading = null;
    }
  }

  /** Read and draw the archive's tiles over a box [w, s, e, n] (replacing what was drawn). */
  async draw(box) {
    const s = this.summary;
    const plan = tilesFor(box, s.minZoom, s.maxZoom);
    const layers = new Layers(this.map, plan.z);
    let found = 0;
    for (const [x, y] of plan.tiles) {
      const tile = await this.archive.getZxy(plan.z, x, y);
      if (!tile) continue;
      found += 1;
      layers.addTile(new VectorTile(new Pbf(new Uint8Array(tile.data))), x, y);
    }
    this.removeDrawing();
    this.drawn = layers.finish();
    this.showTwin(false);
    Object.assign(s, {
      zoom: plan.z,
      tiles: plan.tiles,
      truncated: plan.truncated,
      tilesFound: found,
      counts: layers.counts(),
      keys: layers.keys(),
    });
  }

  /** Read the archive again for the part of it in view, at the deepest zoom the budget allows. */
  async drawView() {
    const rect = this.map.camera.computeViewRectangle(Ellipsoid.WGS84);
    if (!this.summary || !rect) return this.summary;
    const [w, s, e, n] = this.summary.bounds;
    const view = [rect.west, rect.south, rect.east, rect.north].map(CesiumMath.toDegrees);
    const box = [Math.max(w, view[0]), Math.max(s, view[1]), Math.min(e, view[2]), Math.min(n, view[3])];
    if (box[0] >= box[2] || box[1] >= box[3]) return this.summary; // the archive is not in view
    try {
      await this.draw(box);
    } catch (err) {
      this.fail("offline.unreadable", { name: this.summary.name, detail: String(err && err.message ? err.message : err) });
    }
    this.render();
    return this.summary;
  }

  fail(key, vars) {
    this.error = { key, vars };
    this.reading = null;
    this.render();
    return null;
  }

  removeDrawing() {
    for (const prim of this.drawn) this.map.scene.primitives.remove(prim);
    this.drawn = [];
  }

  /** Show or hide the server's 3D buildings (hidden under an archive's own). */
  showTwin(on) {
    // Only what this panel hid comes back; buildings the user hid stay hidden.
    if (on ? !this.hidTwin : this.hidTwin || !this.map.visible.buildings) return;
    this.hidTwin = !on;
    this.map.setVisible("buildings", on);
    const box = document.querySelector("[data-layer=buildings]");
    if (box) box.checked = on;
  }

  /** Remove the archive's drawing and its card (the server's buildings come back). */
  close() {
    if (this.drawn.length) this.showTwin(true);
    this.removeDrawing();
    this.archive = null;
    this.summary = null;
    this.error = null;
    this.root.hidden = true;
    this.map.scene.requestRender();
  }

  render() {
    const el = (tag, props = {}, ...children) => {
      const node = Object.assign(document.createElement(tag), props);
      node.append(...children);
      return node;
    };
    const head = el("header", {}, el("h2", { textContent: t("offline.title") }));
    const closer = el("button", { type: "button", id: "offline-close", title: t("offline.close"), textContent: "×" });
    closer.addEventListener("click", () => this.close());
    head.append(closer);
    const body = [];
    if (this.reading) body.push(el("p", { className: "muted", textContent: t("offline.reading", { name: this.reading }) }));
    if (this.error) {
      body.push(el("p", { id: "offline-error", className: "note", role: "alert", textContent: t(this.error.key, this.error.vars) }));
    }
    const s = this.summary;
    if (s) {
      const rows = [
        ["offline.file", `${s.name} (${(s.size / 1024).toFixed(0)} KB)`],
        ["offline.zooms", `${s.minZoom}–${s.maxZoom}`],
        ["offline.bounds", s.bounds.map((v) => v.toFixed(4)).join(", ")],
        ["offline.tiles", String(s.addressedTiles)],
      ];
      const dl = el("dl", { id: "offline-header" });
      for (const [key, value] of rows) dl.append(el("dt", { textContent: t(key) }), el("dd", { textContent: value }));
      const list = el("ul", { id: "offline-layers", className: "list" });
      for (const layer of s.layers) {
        const name = LAYER_LABEL[layer.id] ? t(LAYER_LABEL[layer.id]) : layer.id;
        const li = el("li", {}, el("span", { textContent: `${name} · ${layer.id}` }));
        li.dataset.layer = layer.id;
        li.append(el("span", { className: "n", textContent: `z${layer.minzoom}–${layer.maxzoom} · ${s.counts[layer.id] || 0}` }));
        list.append(li);
      }
      const features = Object.values(s.counts).reduce((a, b) => a + b, 0);
      const shown = t("offline.shown", { z: s.zoom, n: s.tilesFound, f: features });
      const again = el("button", { type: "button", id: "offline-view", textContent: t("offline.view") });
      again.addEventListener("click", () => {
        this.busy = this.drawView();
      });
      body.push(dl, el("h3", { className: "legend-title", textContent: t("offline.layers") }), list,
        el("p", { id: "offline-shown", className: "muted", textContent: shown }), again,
        el("p", { className: "muted", textContent: t("offline.local") }));
    }
    this.root.replaceChildren(head, ...body);
  }
}

/** The features of the tiles read, gathered per layer, then drawn as Cesium primitives. */
class Layers {
  constructor(map, z) {
    this.map = map;
    this.z = z;
    this.found = {}; // layer → Map(key → properties)
    this.boxes = new Map(); // "layer code" → label box, properties
    this.lines = new PolylineCollection();
    this.labels = new LabelCollection({ scene: map.scene });
    this.points = new PointPrimitiveCollection();
    this.buildings = [];
  }

  addTile(tile, x, y) {
    for (const [name, layer] of Object.entries(tile.layers)) {
      for (let i = 0; i < layer.length; i += 1) {
        const feature = layer.feature(i);
        const p = feature.properties;
        const key = p.code ?? p.id ?? `${this.z}/${x}/${y}#${i}`;
        const at = lonLat(this.z, x, y, layer.extent);
        if (this.add(name, feature, layer.extent, at, key)) {
          if (!this.found[name]) this.found[name] = new Map();
          this.found[name].set(String(key), p);
        }
      }
    }
  }

  /** Draw one feature's part inside its tile; whether any part was. */
  add(name, feature, extent, at, key) {
    const p = feature.properties;
    const geometry = feature.loadGeometry();
    if (feature.type === 1) {
      const inside = geometry.flat().filter((q) => q.x >= 0 && q.x < extent && q.y >= 0 && q.y < extent);
      for (const q of inside) this.point(name, at(q), p);
      return inside.length > 0;
    }
    if (feature.type === 2) {
      const pieces = geometry.flatMap((line) => clipLine(line, extent)).map((piece) => piece.map(at));
      for (const piece of pieces) this.line(name, piece, p);
      if (pieces.length) this.note(name, key, pieces.flat(), p);
      return pieces.length > 0;
    }
    const areas = outerRings(geometry).map((ring) => clipRing(ring, extent)).filter((r) => r.length);
    if (!areas.length) return false;
    const rings = areas.map((ring) => ring.map(at));
    if (name === "buildings") {
      for (const ring of rings) this.building(ring, p);
    } else {
      const style = ADMIN[name] || ADMIN.grids;
      for (const pieces of geometry.map((ring) => clipLine(ring, extent))) {
        for (const piece of pieces) this.outline(piece.map(at), style, p);
      }
    }
    this.note(name, key, rings.flat(), p);
    return true;
  }

  /** Remember where a feature is, for one label per feature at the end. */
  note(name, key, points, p) {
    const id = `${name} ${key}`;
    const known = this.boxes.get(id) || { name, box: EMPTY_BOX(), p };
    widen(known.box, points);
    this.boxes.set(id, known);
  }

  point(name, [lon, lat], p) {
    const style = POINTS[name] || POINTS.entities;
    this.points.add({
      position: Cartesian3.fromDegrees(lon, lat, 3),
      pixelSize: name === "events" ? 10 : 6,
      color: Color.fromCssColorString(style.colour),
      outlineColor: Color.WHITE,
      outlineWidth: 1.5,
      distanceDisplayCondition: new DistanceDisplayCondition(0, style.far * 2),
      disableDepthTestDistance: Number.POSITIVE_INFINITY,
      id: { kind: "offline", layer: name, properties: p },
    });
    const text = style.text(p);
    if (text) this.label(lon, lat, 6, String(text), "12px", style.colour, style.far, true);
  }

  line(name, lonLats, p) {
    this.lines.add({
      positions: Cartesian3.fromDegreesArrayHeights(lonLats.flatMap(([lon, lat]) => [lon, lat, 1])),
      width: p.road_class === "大道" ? 6 : 3.5,
      material: Material.fromType("Color", { color: Color.fromCssColorString("#90a4ae") }),
      id: { kind: "offline", layer: name, properties: p },
    });
  }

  outline(lonLats, style, p) {
    this.lines.add({
      positions: Cartesian3.fromDegreesArrayHeights(lonLats.flatMap(([lon, lat]) => [lon, lat, 2])),
      width: style.width,
      material: Material.fromType("Color", { color: Color.fromCssColorString(style.colour) }),
      distanceDisplayCondition: new DistanceDisplayCondition(0, style.far),
      id: { kind: "offline", layer: "unit", properties: p },
    });
  }

  building(ring, p) {
    const height = Number(p.height_m) || (Number(p.floors) || 3) * 3;
    this.buildings.push(
      new GeometryInstance({
        geometry: new PolygonGeometry({
          polygonHierarchy: new PolygonHierarchy(Cartesian3.fromDegreesArray(ring.flat())),
          height: 0,
          extrudedHeight: height,
          vertexFormat: PerInstanceColorAppearance.VERTEX_FORMAT,
        }),
        attributes: { color: ColorGeometryInstanceAttribute.fromColor(Color.fromCssColorString("#ffcc80")) },
        id: { kind: "offline", layer: "buildings", properties: p },
      }),
    );
  }

  label(lon, lat, height, text, font, colour, far, above = false) {
    addLabel(this.labels, lon, lat, text, { font, colour, far, height, above });
  }

  /** Add the labels of lines and areas, and every primitive to the scene; return them. */
  finish() {
    for (const { name, box, p } of this.boxes.values()) {
      const [lon, lat] = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2];
      if (ADMIN[name] && p.name) {
        const s = ADMIN[name];
        this.label(lon, lat, 5, p.name, s.font, s.colour, s.labelFar);
      } else if (name === "buildings" && p.name) {
        this.label(lon, lat, (Number(p.height_m) || 9) + 2, p.name, "12px", "#5d4037", 700);
      } else if (name === "roads" && p.name) {
        this.label(lon, lat, 2, p.name, "bold 13px", "#455a64", 2500);
      }
    }
    const scene = this.map.scene;
    const drawn = [this.lines, this.points, this.labels].map((prim) => scene.primitives.add(prim));
    if (this.buildings.length) {
      drawn.push(
        scene.primitives.add(
          new Primitive({
            geometryInstances: this.buildings,
            appearance: new PerInstanceColorAppearance({ translucent: false, closed: true }),
            asynchronous: false,
          }),
        ),
      );
    }
    scene.requestRender();
    return drawn;
  }

  counts() {
    return Object.fromEntries(Object.entries(this.found).map(([name, m]) => [name, m.size]));
  }

  keys() {
    return Object.fromEntries(Object.entries(this.found).map(([name, m]) => [name, [...m.keys()].sort()]));
  }
}

// Roads and door plates at close zoom, from the server's vector tiles
// (/tiles/roads,addresses/{z}/{x}/{y}.mvt, decoded with @mapbox/vector-tile): road lines with
// their names, door plates (门牌) as labels. Loaded for the view when the camera is low enough,
// a few tiles at a time, each tile once.

import {
  Cartesian3,
  Color,
  DistanceDisplayCondition,
  Ellipsoid,
  HorizontalOrigin,
  LabelCollection,
  LabelStyle,
  Material,
  Math as CesiumMath,
  PolylineCollection,
  VerticalOrigin,
} from "@cesium/engine";
import { VectorTile } from "@mapbox/vector-tile";
import Pbf from "pbf";
import { authHeaders } from "./api.js";

/** The zoom the tiles are read at: door plates start at 16 (tiles/layers.py). */
const Z = 16;
/** Tiles are loaded only when the camera is lower than this (m). */
const BELOW_M = 2500;
/** The most tiles one view loads (those nearest the centre first). */
const MAX_TILES = 16;
const FONT = '"Noto Sans CJK SC", "Noto Sans SC", sans-serif';

function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const rad = CesiumMath.toRadians(lat);
  const x = Math.floor(((lon + 180) / 360) * n);
  const y = Math.floor(((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2) * n);
  return [Math.min(Math.max(x, 0), n - 1), Math.min(Math.max(y, 0), n - 1)];
}

/** Add a haloed label at lon, lat (`height` m up; `above`: over the point, not centred on it). */
export function addLabel(labels, lon, lat, text, { font, colour, far, height = 2, above = false }) {
  labels.add({
    position: Cartesian3.fromDegrees(lon, lat, height),
    text,
    font: `${font} ${FONT}`,
    fillColor: Color.fromCssColorString(colour),
    outlineColor: Color.WHITE,
    outlineWidth: 3,
    style: LabelStyle.FILL_AND_OUTLINE,
    horizontalOrigin: HorizontalOrigin.CENTER,
    verticalOrigin: above ? VerticalOrigin.BOTTOM : VerticalOrigin.CENTER,
    distanceDisplayCondition: new DistanceDisplayCondition(0, far),
    disableDepthTestDistance: Number.POSITIVE_INFINITY,
  });
}

export class StreetLayer {
  constructor(map, state) {
    this.map = map;
    this.state = state;
    this.loaded = new Set();
    this.named = new Set();
    this.lines = map.scene.primitives.add(new PolylineCollection());
    this.labels = map.scene.primitives.add(new LabelCollection({ scene: map.scene }));
    this.busy = false;
    state.streetTiles = 0;
    state.doorPlates = 0;
    state.roads = 0;
  }

  /** Load the tiles of the view that are not loaded yet (when the camera is low enough). */
  async update() {
    const camera = this.map.camera;
    if (this.busy || camera.positionCartographic.height > BELOW_M) return;
    const rect = camera.computeViewRectangle(Ellipsoid.WGS84);
    if (!rect) return;
    const [w, s, e, n] = [rect.west, rect.south, rect.east, rect.north].map(CesiumMath.toDegrees);
    const [x0, y0] = tileOf(w, n, Z);
    const [x1, y1] = tileOf(e, s, Z);
    const [cx, cy] = tileOf((w + e) / 2, (s + n) / 2, Z);
    const wanted = [];
    for (let x = x0; x <= x1; x += 1) {
      for (let y = y0; y <= y1; y += 1) {
        if (!this.loaded.has(`${x}/${y}`)) wanted.push([x, y]);
      }
    }
    wanted.sort((a, b) => Math.hypot(a[0] - cx, a[1] - cy) - Math.hypot(b[0] - cx, b[1] - cy));
    this.busy = true;
    try {
      await Promise.all(wanted.slice(0, MAX_TILES).map(([x, y]) => this.load(x, y)));
    } finally {
      this.busy = false;
    }
    this.map.scene.requestRender();
  }

  async load(x, y) {
    this.loaded.add(`${x}/${y}`);
    const res = await fetch(`/tiles/roads,addresses/${Z}/${x}/${y}.mvt`, { headers: authHeaders() });
    if (!res.ok) throw new Error(`roads tile ${Z}/${x}/${y}: ${res.status}`);
    const tile = new VectorTile(new Pbf(await res.arrayBuffer()));
    this.state.streetTiles += 1;
    const roads = tile.layers.roads;
    for (let i = 0; roads && i < roads.length; i += 1) {
      this.addRoad(roads.feature(i).toGeoJSON(x, y, Z));
    }
    const doors = tile.layers.addresses;
    for (let i = 0; doors && i < doors.length; i += 1) {
      this.addDoor(doors.feature(i).toGeoJSON(x, y, Z));
    }
  }

  addRoad(f) {
    const lines = f.geometry.type === "LineString" ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const line of lines) {
      this.lines.add({
        positions: Cartesian3.fromDegreesArrayHeights(line.flatMap(([lon, lat]) => [lon, lat, 1])),
        width: f.properties.road_class === "大道" ? 7 : 4,
        material: Material.fromType("Color", { color: Color.fromCssColorString("#a9b8c2") }),
        distanceDisplayCondition: new DistanceDisplayCondition(0, BELOW_M * 1.5),
      });
    }
    this.state.roads += 1;
    const id = f.properties.id ?? f.properties.name;
    if (this.named.has(id) || !f.properties.name) return;
    this.named.add(id);
    const longest = lines.reduce((a, b) => (b.length > a.length ? b : a));
    const [lon, lat] = longest[Math.floor(longest.length / 2)];
    this.label(lon, lat, f.properties.name, "bold 13px", "#455a64", 1500);
  }

  addDoor(f) {
    const [lon, lat] = f.geometry.coordinates;
    // The plate as written on the wall: the road and number, without the units above it.
    const text = String(f.properties.text || f.properties.door_no || "").replace(/^.*?社区/, "");
    this.label(lon, lat, text, "12px", "#00695c", 600);
    this.state.doorPlates += 1;
  }

  label(lon, lat, text, font, colour, far) {
    addLabel(this.labels, lon, lat, text, { font, colour, far });
  }

  setVisible(on) {
    this.lines.show = on;
    this.labels.show = on;
  }
}

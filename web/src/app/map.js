// The map: CesiumJS (engine only) with nothing from outside hosts — no ion token, no base
// imagery, no terrain service, no sky box. It holds the city's 3D Tiles, the administrative
// boundaries with their labels, the highlighted unit and a building's floors and rooms.

import {
  BoundingSphere,
  Cartesian2,
  Cartesian3,
  Cesium3DTileColorBlendMode,
  Cesium3DTileFeature,
  Cesium3DTileset,
  CesiumWidget,
  Color,
  ColorGeometryInstanceAttribute,
  DirectionalLight,
  DistanceDisplayCondition,
  Ellipsoid,
  EllipsoidGeodesic,
  GeometryInstance,
  HeadingPitchRange,
  HorizontalOrigin,
  Ion,
  LabelCollection,
  LabelStyle,
  Material,
  Math as CesiumMath,
  Matrix4,
  NearFarScalar,
  PerInstanceColorAppearance,
  PolygonGeometry,
  PolygonHierarchy,
  PointPrimitiveCollection,
  PolylineCollection,
  Primitive,
  Resource,
  SceneTransforms,
  VerticalOrigin,
} from "@cesium/engine";
import { authHeaders } from "./api.js";
import { useComputedBrdfTable } from "./brdf.js";

// No default token: any attempt to reach ion fails here instead of calling out.
Ion.defaultAccessToken = "";
// render=cesium (a query parameter, for comparing load times: bench/viewer.py) keeps
// CesiumJS's own rendering: its BRDF table drawn by the scene, order-independent translucency.
const CESIUM_RENDERING = new URLSearchParams(window.location.search).get("render") === "cesium";
// The models' BRDF lookup table from the page, not rendered by the scene (seconds on a CPU).
if (!CESIUM_RENDERING) useComputedBrdfTable();

/**
 * Fetch the content of a tileset's first tiles (the shallowest with content, at most `most`)
 * into the browser's cache (content files are cacheable for a minute), while the page starts.
 */
async function warmUp(url, most = 8) {
  try {
    const base = new URL(url, window.location.href);
    const doc = await (await fetch(base, { headers: authHeaders() })).json();
    let level = [doc.root];
    while (level.length) {
      const uris = level.filter((tile) => tile.content && tile.content.uri).map((tile) => tile.content.uri);
      if (uris.length) {
        await Promise.all(uris.slice(0, most).map((uri) => fetch(new URL(uri, base), { headers: authHeaders() })));
        return;
      }
      level = level.flatMap((tile) => tile.children || []);
    }
  } catch {
    // only a warm-up: the tileset loads its tiles itself
  }
}

/** How each level of boundary is drawn and from how far (m) it shows. */
const LEVEL_STYLE = {
  district: { colour: "#37474f", width: 3, far: 4e6, font: "bold 18px", labelFar: 2e5 },
  street: { colour: "#5c6bc0", width: 2.5, far: 2e5, font: "bold 16px", labelFar: 6e4 },
  community: { colour: "#7e57c2", width: 1.8, far: 4e4, font: "14px", labelFar: 1.5e4 },
  grid: { colour: "#9e9e9e", width: 1.2, far: 8e3, font: "12px", labelFar: 3e3 },
};
const FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Microsoft YaHei", sans-serif';

export class TwinMap {
  constructor(container) {
    this.widget = new CesiumWidget(container, {
      // No globe: with no imagery or terrain it would only be a plain surface, and its tiles
      // and shaders cost seconds on a machine without a GPU. The background is the ground.
      globe: false,
      baseLayer: false,
      skyBox: false,
      skyAtmosphere: false,
      shouldAnimate: false,
      msaaSamples: 1,
      requestRenderMode: true,
      maximumRenderTimeChange: Infinity,
      // Translucent things (the thematic fills, the see-through buildings around an opened
      // floor, labels' edges) sorted back to front instead: order-independent translucency
      // adds passes to every frame (without a GPU the first view's buildings came 0.1 – 1 s
      // later with it).
      orderIndependentTranslucency: CESIUM_RENDERING,
    });
    this.scene = this.widget.scene;
    this.camera = this.widget.camera;
    this.scene.fog.enabled = false;
    // A headlight instead of the sun: buildings are lit the same by night and by day.
    this.scene.light = new DirectionalLight({ direction: Cartesian3.clone(this.camera.directionWC) });
    this.scene.preRender.addEventListener(() => {
      Cartesian3.clone(this.camera.directionWC, this.scene.light.direction);
    });
    this.scene.postProcessStages.fxaa.enabled = false;
    this.scene.backgroundColor = Color.fromCssColorString("#e9eef2");
    this.layers = {};
    this.labels = {};
    this.outlines = {};
    this.highlight = this.scene.primitives.add(new PolylineCollection());
    this.marks = this.scene.primitives.add(new PointPrimitiveCollection());
    this.interior = null;
    this.tileset = null;
    this.home = null;
    this.visible = { boundaries: true, labels: true, buildings: true };
  }

  /**
   * Load the city tileset's tileset.json (its tiles carry the key too) without drawing it, and
   * fetch the content of its first tiles into the browser's cache, so that drawing it later
   * (addTileset) waits for neither. Resolves with the tileset.
   */
  async prepareTileset(url) {
    warmUp(url);
    const resource = new Resource({ url, headers: authHeaders() });
    const tileset = await Cesium3DTileset.fromUrl(resource, {
      maximumScreenSpaceError: 12,
      // No dynamic environment map: it renders an atmosphere cube map for the lighting, which
      // costs seconds without a GPU and adds nothing to flat-coloured buildings.
      environmentMapOptions: { enabled: false },
    });
    // The statistic's colour replaces the model's grey instead of darkening it (a property:
    // the constructor takes no colorBlendMode).
    tileset.colorBlendMode = Cesium3DTileColorBlendMode.REPLACE;
    return tileset;
  }

  /** Draw a prepared city tileset. */
  addTileset(tileset) {
    this.tileset = tileset;
    this.scene.primitives.add(tileset);
    this.scene.requestRender();
    return tileset;
  }

  /** Draw the outlines and labels of one level's units (a GeoJSON FeatureCollection). */
  setUnits(level, geojson) {
    const style = LEVEL_STYLE[level];
    this.dropUnits(level);
    const lines = new PolylineCollection();
    const labels = new LabelCollection({ scene: this.scene });
    const colour = Color.fromCssColorString(style.colour);
    const near = new DistanceDisplayCondition(0, style.far);
    for (const f of geojson.features) {
      this.outlines[f.properties.code] = rings(f.geometry);
      for (const ring of rings(f.geometry)) {
        lines.add({
          positions: Cartesian3.fromDegreesArrayHeights(ring.flatMap(([x, y]) => [x, y, 2])),
          width: style.width,
          // One material each: a polyline destroys its material with itself.
          material: Material.fromType("Color", { color: colour }),
          distanceDisplayCondition: near,
          id: { kind: "unit", code: f.properties.code },
        });
      }
      const [lon, lat] = f.properties.label;
      labels.add({
        position: Cartesian3.fromDegrees(lon, lat, 5),
        text: f.properties.name,
        font: `${style.font} ${FONT}`,
        fillColor: Color.fromCssColorString(style.colour),
        outlineColor: Color.WHITE,
        outlineWidth: 3,
        style: LabelStyle.FILL_AND_OUTLINE,
        horizontalOrigin: HorizontalOrigin.CENTER,
        verticalOrigin: VerticalOrigin.CENTER,
        distanceDisplayCondition: new DistanceDisplayCondition(0, style.labelFar),
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
        scaleByDistance: new NearFarScalar(1e3, 1.0, style.labelFar, 0.7),
        id: { kind: "unit", code: f.properties.code },
      });
    }
    lines.show = this.visible.boundaries;
    labels.show = this.visible.labels;
    this.layers[level] = this.scene.primitives.add(lines);
    this.labels[level] = this.scene.primitives.add(labels);
    this.scene.requestRender();
  }

  dropUnits(level) {
    for (const store of [this.layers, this.labels]) {
      if (store[level]) {
        this.scene.primitives.remove(store[level]);
        delete store[level];
      }
    }
  }

  /** Show or hide a layer group: boundaries, labels or buildings. */
  setVisible(what, on) {
    this.visible[what] = on;
    const groups = { boundaries: this.layers, labels: this.labels };
    if (what === "buildings" && this.tileset) this.tileset.show = on;
    for (const prim of Object.values(groups[what] || {})) prim.show = on;
    this.scene.requestRender();
  }

  /** Outline one unit in the highlight colour: its drawn outline, else its bbox; null clears. */
  highlightUnit(code, bbox) {
    this.highlight.removeAll();
    if (!code) return;
    const [w, s, e, n] = bbox;
    const outline = this.outlines[code] || [[[w, s], [e, s], [e, n], [w, n], [w, s]]];
    for (const ring of outline) {
      this.highlight.add({
        positions: Cartesian3.fromDegreesArrayHeights(ring.flatMap(([x, y]) => [x, y, 3])),
        width: 4,
        material: Material.fromType("Color", { color: Color.fromCssColorString("#00b8d4") }),
      });
    }
    this.scene.requestRender();
  }

  /** Fly to a bbox [w, s, e, n] (degrees), tilted, or straight down when the view is flat. */
  flyToBox(bbox, duration = 1.2) {
    const [w, s, e, n] = bbox;
    const centre = Cartesian3.fromDegrees((w + e) / 2, (s + n) / 2, 0);
    const corner = Cartesian3.fromDegrees(w, s, 0);
    const radius = Math.max(Cartesian3.distance(centre, corner), 60);
    this.flyToSphere(new BoundingSphere(centre, radius), duration);
  }

  flyToPoint(lon, lat, range = 400, duration = 1.2) {
    this.flyToSphere(new BoundingSphere(Cartesian3.fromDegrees(lon, lat, 0), range / 2.5), duration);
  }

  /** Fly to look down on a point at a height (a building's floor), steeply, from `range` m. */
  flyToFloor(lon, lat, heightM, range) {
    const sphere = new BoundingSphere(Cartesian3.fromDegrees(lon, lat, heightM), 1);
    this.camera.flyToBoundingSphere(sphere, {
      offset: new HeadingPitchRange(this.camera.heading, CesiumMath.toRadians(-55), range),
      duration: 1.0,
    });
  }

  flyToSphere(sphere, duration = 1.2) {
    const pitch = this.flat ? -89.9 : -45;
    this.camera.flyToBoundingSphere(sphere, {
      offset: new HeadingPitchRange(0, CesiumMath.toRadians(pitch), sphere.radius * 2.5),
      duration,
    });
    this.scene.requestRender();
  }

  /** Look at a point from the south (range in metres, pitch in degrees: -90 looks down). */
  lookAt(lon, lat, height, range, pitch = -35) {
    this.camera.lookAt(
      Cartesian3.fromDegrees(lon, lat, height),
      new HeadingPitchRange(0, CesiumMath.toRadians(pitch), range),
    );
    this.camera.lookAtTransform(Matrix4.IDENTITY); // free the camera again for the user
    this.scene.requestRender();
  }

  setHomeBox(bbox) {
    this.home = bbox;
  }

  resetView() {
    if (this.home) this.flyToBox(this.home, 1.0);
  }

  /** Turn the camera so that north is up, keeping where it looks and its tilt. */
  northUp() {
    const target = this.centre();
    if (!target) return;
    const range = Cartesian3.distance(this.camera.positionWC, target);
    this.camera.flyToBoundingSphere(new BoundingSphere(target, 1), {
      offset: new HeadingPitchRange(0, this.camera.pitch, range),
      duration: 0.6,
    });
  }

  /** Switch between a tilted 3D view and looking straight down (the 2D plan). */
  toggleTilt() {
    this.flat = !this.flat;
    const target = this.centre();
    if (!target) return this.flat;
    const range = Cartesian3.distance(this.camera.positionWC, target);
    this.camera.flyToBoundingSphere(new BoundingSphere(target, 1), {
      offset: new HeadingPitchRange(
        this.flat ? 0 : this.camera.heading,
        CesiumMath.toRadians(this.flat ? -89.9 : -45),
        range,
      ),
      duration: 0.8,
    });
    return this.flat;
  }

  zoom(factor) {
    const target = this.centre();
    if (!target) return;
    const range = Cartesian3.distance(this.camera.positionWC, target);
    this.camera.zoomIn(range * (1 - factor));
    this.scene.requestRender();
  }

  /** The point of the ground at the centre of the view, or null (looking at the sky). */
  centre() {
    const canvas = this.scene.canvas;
    return this.groundAt(canvas.clientWidth / 2, canvas.clientHeight / 2);
  }

  groundAt(x, y) {
    return this.camera.pickEllipsoid(new Cartesian2(x, y), Ellipsoid.WGS84) || null;
  }

  /** Metres between two window points on the ground (for the scale bar), or null. */
  groundDistance(a, b) {
    const p = this.groundAt(a.x, a.y);
    const q = this.groundAt(b.x, b.y);
    if (!p || !q) return null;
    const ellipsoid = Ellipsoid.WGS84;
    const geodesic = new EllipsoidGeodesic(
      ellipsoid.cartesianToCartographic(p),
      ellipsoid.cartesianToCartographic(q),
    );
    return geodesic.surfaceDistance;
  }

  /**
   * What is under a window point: {kind: "building", properties} (the city tileset),
   * {kind: "model", properties, path, building} (an imported model, the building it is linked
   * to or null), {kind: "room", ...} or null.
   */
  pickAt(x, y) {
    const picked = this.scene.pick(new Cartesian2(x, y));
    if (picked instanceof Cesium3DTileFeature) {
      const properties = {};
      for (const name of picked.getPropertyIds()) {
        const value = picked.getProperty(name);
        properties[name] = typeof value === "bigint" ? Number(value) : value;
      }
      if (picked.tileset !== this.tileset) {
        const model = picked.tileset.twinModel || {};
        return { kind: "model", properties, path: model.path, building: model.building || null };
      }
      return { kind: "building", properties };
    }
    if (picked && picked.id && picked.id.kind) return picked.id;
    return null;
  }

  /** The window position of a point (degrees, metres), or null when it is off screen. */
  toWindow(lon, lat, height) {
    const at = SceneTransforms.worldToWindowCoordinates(
      this.scene,
      Cartesian3.fromDegrees(lon, lat, height),
    );
    return at ? { x: at.x, y: at.y } : null;
  }

  /** Mark one point on the ground (a placement under review); null clears the mark. */
  markPoint(lon, lat) {
    this.marks.removeAll();
    if (lon !== null && lon !== undefined) {
      this.marks.add({
        position: Cartesian3.fromDegrees(lon, lat, 4),
        pixelSize: 14,
        color: Color.fromCssColorString("#d81b60"),
        outlineColor: Color.WHITE,
        outlineWidth: 3,
        disableDepthTestDistance: Number.POSITIVE_INFINITY,
      });
    }
    this.scene.requestRender();
  }

  /**
   * Fill units (GeoJSON features) with the colour `colourOf(properties)` gives (a CSS colour;
   * null leaves a unit unfilled), half see-through under the outlines: the thematic map. A
   * second call replaces the fills; null clears them.
   */
  setFills(features, colourOf) {
    if (this.fills) {
      this.scene.primitives.remove(this.fills);
      this.fills = null;
    }
    const instances = [];
    for (const f of features || []) {
      const css = colourOf(f.properties);
      if (!css) continue;
      const colour = Color.fromCssColorString(css).withAlpha(0.6);
      for (const ring of rings(f.geometry)) {
        instances.push(
          new GeometryInstance({
            geometry: new PolygonGeometry({
              polygonHierarchy: new PolygonHierarchy(Cartesian3.fromDegreesArray(ring.flat())),
              height: 1,
              vertexFormat: PerInstanceColorAppearance.FLAT_VERTEX_FORMAT,
            }),
            attributes: { color: ColorGeometryInstanceAttribute.fromColor(colour) },
            id: { kind: "unit", code: f.properties.code },
          }),
        );
      }
    }
    this.fillCount = instances.length;
    if (instances.length) {
      this.fills = this.scene.primitives.add(
        new Primitive({
          geometryInstances: instances,
          appearance: new PerInstanceColorAppearance({ flat: true, translucent: true }),
          asynchronous: false,
        }),
      );
    }
    this.scene.requestRender();
  }

  /**
   * Show a building's floors up to `floorNo`: that floor's rooms coloured by `colourOf`
   * (room properties → CSS colour), the floors under it as pale slabs. null clears.
   */
  showInterior(rooms, floorNo, colourOf) {
    if (this.interior) {
      this.scene.primitives.remove(this.interior);
      this.interior = null;
    }
    if (!rooms || floorNo === null) {
      this.scene.requestRender();
      return;
    }
    const instances = [];
    for (const f of rooms.features) {
      const p = f.properties;
      if (p.floor_no > floorNo || (floorNo > 0 && p.floor_no < 0)) continue;
      const current = p.floor_no === floorNo;
      const colour = current ? Color.fromCssColorString(colourOf(p)) : Color.fromCssColorString("#eceff1").withAlpha(0.9);
      for (const ring of rings(f.geometry).slice(0, 1)) {
        instances.push(
          new GeometryInstance({
            geometry: new PolygonGeometry({
              polygonHierarchy: new PolygonHierarchy(Cartesian3.fromDegreesArray(ring.flat())),
              height: p.bottom_m,
              extrudedHeight: current ? p.top_m : p.bottom_m + 0.3,
              vertexFormat: PerInstanceColorAppearance.VERTEX_FORMAT,
            }),
            attributes: { color: ColorGeometryInstanceAttribute.fromColor(colour) },
            id: { kind: "room", ...p },
          }),
        );
      }
    }
    this.interior = this.scene.primitives.add(
      new Primitive({
        geometryInstances: instances,
        appearance: new PerInstanceColorAppearance({ translucent: false, closed: true }),
        asynchronous: false,
      }),
    );
    this.scene.requestRender();
  }
}

/** The outer rings of a Polygon or MultiPolygon, as [[lon, lat], ...] arrays. */
function rings(geometry) {
  if (geometry.type === "Polygon") return geometry.coordinates.slice(0, 1);
  if (geometry.type === "MultiPolygon") return geometry.coordinates.map((poly) => poly[0]);
  return [];
}

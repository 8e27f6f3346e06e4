// The 3D Tiles viewer: CesiumJS (engine only) on the server's /3dtiles, with nothing from
// outside hosts: no ion token, no base imagery, no terrain service. CESIUM_BASE_URL points at
// the workers and assets that build.mjs copies into dist/cesium/.
//
// Query parameters: tileset (URL of a tileset.json, default /3dtiles/city/tileset.json) and
// api_key (sent as "Authorization: Bearer" with the tileset and every tile it loads).
// window.twin is the page's small test interface (used by tests/browser/).

import {
  Cartesian2,
  Cartesian3,
  Cesium3DTileFeature,
  Cesium3DTileset,
  CesiumWidget,
  Color,
  HeadingPitchRange,
  Ion,
  Math as CesiumMath,
  Resource,
  SceneTransforms,
  ScreenSpaceEventHandler,
  ScreenSpaceEventType,
} from "@cesium/engine";
import { useComputedBrdfTable } from "./app/brdf.js";

// The models' BRDF lookup table from the page, not rendered by the scene (seconds on a CPU).
useComputedBrdfTable();

const params = new URLSearchParams(window.location.search);
const tilesetUrl = params.get("tileset") || "/3dtiles/city/tileset.json";
const apiKey = params.get("api_key");
// Headers of a Resource are inherited by the tile requests derived from it.
const tilesetResource = new Resource({
  url: tilesetUrl,
  headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
});
const $ = (id) => document.getElementById(id);

// No default token: any attempt to reach ion fails here instead of calling out.
Ion.defaultAccessToken = "";

const widget = new CesiumWidget("twin-3d", {
  baseLayer: false,
  skyBox: false,
  skyAtmosphere: false,
  shouldAnimate: false,
  msaaSamples: 1,
});
const scene = widget.scene;
scene.globe.baseColor = Color.fromCssColorString("#dfe6ec");
scene.globe.showGroundAtmosphere = false;
scene.fog.enabled = false;

const state = { tilesLoaded: 0, picked: null, properties: null, error: null, tileset: null };

function showError(err) {
  state.error = String(err && err.message ? err.message : err);
  $("twin-error").textContent = state.error;
}

/** The properties of the feature at window position (x, y) (code, height_m, people...), or null. */
function pickAt(x, y) {
  const picked = scene.pick(new Cartesian2(x, y));
  if (!(picked instanceof Cesium3DTileFeature)) {
    return null;
  }
  const properties = {};
  for (const name of picked.getPropertyIds()) {
    const value = picked.getProperty(name);
    properties[name] = typeof value === "bigint" ? Number(value) : value;
  }
  return properties;
}

/** The window position of a point (degrees, metres), or null when it is off screen. */
function toWindow(lon, lat, height) {
  const at = SceneTransforms.worldToWindowCoordinates(
    scene,
    Cartesian3.fromDegrees(lon, lat, height),
  );
  return at ? { x: at.x, y: at.y } : null;
}

/** Look at a point from the south (range in metres, pitch in degrees: -90 looks straight down). */
function lookAt(lon, lat, height, range, pitch = -35) {
  widget.camera.lookAt(
    Cartesian3.fromDegrees(lon, lat, height),
    new HeadingPitchRange(0, CesiumMath.toRadians(pitch), range),
  );
}

const handler = new ScreenSpaceEventHandler(scene.canvas);
handler.setInputAction((click) => {
  state.properties = pickAt(click.position.x, click.position.y);
  state.picked = state.properties ? String(state.properties.code) : null;
  $("twin-picked").textContent = state.picked
    ? `${state.picked} · ${state.properties.height_m.toFixed(1)} m · people ${state.properties.people ?? "—"}`
    : "—";
}, ScreenSpaceEventType.LEFT_CLICK);

const ready = (async () => {
  const tileset = await Cesium3DTileset.fromUrl(tilesetResource, { maximumScreenSpaceError: 8 });
  state.tileset = tileset;
  tileset.tileLoad.addEventListener(() => {
    state.tilesLoaded += 1;
    $("twin-tiles").textContent = String(state.tilesLoaded);
  });
  tileset.tileFailed.addEventListener((err) => showError(`${err.url}: ${err.message}`));
  scene.primitives.add(tileset);
  const sphere = tileset.boundingSphere;
  widget.camera.viewBoundingSphere(
    sphere,
    new HeadingPitchRange(0, CesiumMath.toRadians(-35), sphere.radius * 2.5),
  );
  return tileset;
})().catch((err) => {
  showError(err);
  throw err;
});

/** Resolve once every tile the view needs is loaded (or reject on timeout). */
function whenLoaded(timeoutMs = 60000) {
  return ready.then(
    (tileset) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("tiles did not load in time")), timeoutMs);
        const check = () => {
          scene.requestRender();
          if (tileset.tilesLoaded && state.tilesLoaded > 0) {
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

window.twin = { state, ready, whenLoaded, pickAt, toWindow, lookAt, scene };

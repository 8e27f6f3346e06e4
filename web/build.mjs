// Build the viewer into dist/: esbuild bundles src/threed.js (CesiumJS engine included), and
// CesiumJS's workers, assets and widget CSS are copied beside it (CESIUM_BASE_URL = cesium/).
// Run with `npm run build`; the Makefile's web-deps target does it after `npm ci`.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist", "threed");
const engine = join(here, "node_modules", "@cesium", "engine");

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "threed.js")],
  bundle: true,
  minify: true,
  format: "iife",
  target: "es2020",
  outfile: join(out, "threed.js"),
  banner: { js: 'window.CESIUM_BASE_URL = "cesium/";' },
  logLevel: "warning",
  legalComments: "linked",
});
for (const [from, to] of [
  [join(engine, "Build", "Workers"), "Workers"],
  [join(engine, "Build", "ThirdParty"), "ThirdParty"],
  [join(engine, "Source", "Assets"), "Assets"],
  [join(engine, "Source", "Widget", "CesiumWidget.css"), join("Widgets", "CesiumWidget.css")],
]) {
  cpSync(from, join(out, "cesium", to), { recursive: true });
}
for (const name of ["threed.html", "threed.css"]) {
  cpSync(join(here, "src", name), join(out, name));
}
console.log(`viewer built into ${out}`);

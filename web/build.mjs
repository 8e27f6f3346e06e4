// Build the viewers into dist/: esbuild bundles each page's script (CesiumJS engine included),
// and CesiumJS's workers, assets and widget CSS are copied once into dist/cesium/, which both
// pages name as CESIUM_BASE_URL ("../cesium/"). Pages: app/ (the twin, served at / and
// /viewer/app/index.html) and threed/ (the plain 3D Tiles viewer).
// Run with `npm run build`; the Makefile's web-deps target does it after `npm ci`.
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const engine = join(here, "node_modules", "@cesium", "engine");
const PAGES = [
  { name: "app", entry: join("app", "main.js"), out: "app.js", files: ["index.html", "app.css"], dir: "app" },
  { name: "threed", entry: "threed.js", out: "threed.js", files: ["threed.html", "threed.css"], dir: "" },
];

rmSync(dist, { recursive: true, force: true });
for (const page of PAGES) {
  const out = join(dist, page.name);
  mkdirSync(out, { recursive: true });
  await build({
    entryPoints: [join(here, "src", page.entry)],
    bundle: true,
    minify: true,
    format: "iife",
    target: "es2020",
    outfile: join(out, page.out),
    banner: { js: 'window.CESIUM_BASE_URL = "../cesium/";' },
    logLevel: "warning",
    legalComments: "linked",
  });
  for (const name of page.files) {
    cpSync(join(here, "src", page.dir, name), join(out, name));
  }
}
for (const [from, to] of [
  [join(engine, "Build", "Workers"), "Workers"],
  [join(engine, "Build", "ThirdParty"), "ThirdParty"],
  [join(engine, "Source", "Assets"), "Assets"],
  [join(engine, "Source", "Widget", "CesiumWidget.css"), join("Widgets", "CesiumWidget.css")],
]) {
  cpSync(from, join(dist, "cesium", to), { recursive: true });
}
console.log(`viewers built into ${dist}`);

// Open PMTiles archives in the twin's viewer (served at /) in headless Chromium: files that are
// not PMTiles v3 first (each must show its message in the page), then a real archive, whose
// layers must be listed and whose features must be drawn, with screenshots.
// Usage: NODE_PATH=web/node_modules node pmtiles_browser.cjs '{"url": ..., ...}'
// Input (one JSON argument): url (the server's / with ?api_key=), chromium, userDataDir, shots
// (a folder for the .png files), allowedHost, canary (a URL on another host fetched at the end
// to prove the request log works), bad ([{path, expect}]: files to refuse, expect a text the
// message must hold), archive (the path of a PMTiles v3 file), target {lon, lat} (a point of
// it to look at closely, then read the archive again for that view).
// Prints one JSON object with what the page showed; failure names the step that failed.
"use strict";
const { runSteps } = require("./offline.cjs");

const pause = (page, ms) => page.evaluate((t) => new Promise((r) => setTimeout(r, t)), ms);

/** Choose a file with the page's file input and wait for the archive to be read. */
async function choose(page, path) {
  await page.setInputFiles("#offline-input", path);
  await page.waitForFunction(() => window.twinApp.offline.busy !== null, null, { timeout: 10000 });
  return page.evaluate(async () => {
    const summary = await window.twinApp.offline.busy;
    window.twinApp.offline.busy = null;
    return summary;
  });
}

const card = (page) =>
  page.evaluate(() => ({
    hidden: document.querySelector("#offline").hidden,
    title: document.querySelector("#offline h2")?.textContent,
    error: document.querySelector("#offline-error")?.textContent || null,
    header: [...document.querySelectorAll("#offline-header dd")].map((d) => d.textContent),
    layers: [...document.querySelectorAll("#offline-layers li")].map((l) => ({
      id: l.dataset.layer,
      text: l.textContent,
    })),
    shown: document.querySelector("#offline-shown")?.textContent || null,
    button: document.querySelector("#offline-open span").textContent,
  }));

async function run(page, opts, result, shot) {
  result.step = "load";
  await page.goto(opts.url, { waitUntil: "load" });
  await page.waitForFunction(() => window.twinApp !== undefined, null, { timeout: 30000 });
  await page.evaluate(() => window.twinApp.ready);
  result.button = await page.textContent("#offline-open span");

  result.step = "bad files";
  result.bad = [];
  for (const bad of opts.bad) {
    const summary = await choose(page, bad.path);
    const seen = await card(page);
    result.bad.push({ summary, ...seen });
  }
  await shot("offline-refused");

  result.step = "archive";
  result.summary = await choose(page, opts.archive);
  await pause(page, 1800); // the flight lasts 1.2 s
  result.card = await card(page);
  result.drawn = await page.evaluate(() => window.twinApp.offline.drawn.length);
  result.twinShown = await page.evaluate(() => window.twinApp.map.visible.buildings);
  const [w, s, e, n] = result.summary.bounds;
  result.view = await page.evaluate(({ lon, lat }) => {
    const at = window.twinApp.toWindow(lon, lat, 0);
    const c = window.twinApp.map.scene.canvas;
    return at && { x: at.x / c.clientWidth, y: at.y / c.clientHeight };
  }, { lon: (w + e) / 2, lat: (s + n) / 2 });
  await shot("offline-archive");

  result.step = "view";
  const t = opts.target;
  await page.evaluate(({ lon, lat }) => window.twinApp.lookAt(lon, lat, 0, 300, -60), t);
  await pause(page, 300);
  await page.click("#offline-view");
  result.viewSummary = await page.evaluate(async () => {
    const summary = await window.twinApp.offline.busy;
    window.twinApp.offline.busy = null;
    return summary;
  });
  result.viewCard = await card(page);
  await shot("offline-view");

  result.step = "language";
  await page.click('#lang button[data-lang="en"]');
  result.english = await card(page);
  await shot("offline-archive-english");
  await page.click('#lang button[data-lang="zh"]');

  result.step = "close";
  await page.click("#offline-close");
  result.closed = await page.evaluate(() => ({
    hidden: document.querySelector("#offline").hidden,
    drawn: window.twinApp.offline.drawn.length,
    twinShown: window.twinApp.map.visible.buildings,
  }));
  result.step = "done";
}

runSteps(run);

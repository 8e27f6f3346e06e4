// Load a 3D Tiles tileset in the viewer with headless Chromium and click a building.
// Usage: NODE_PATH=web/node_modules node threed_browser.cjs '{"url": ..., ...}'
// Input (one JSON argument): url (the viewer page), chromium (the executable), userDataDir,
// screenshot (a .png path), allowedHost (127.0.0.1), target {lon, lat, height} (a point on a
// building's roof, clicked from straight above, where no other building can hide it),
// canary (a URL on another host that the page fetches at the end, to prove the log works).
// Prints one JSON object: tilesLoaded, picked (the clicked building's code), properties (its
// row of the tile's property table), pickedElsewhere (a click in a corner), webgl2,
// offHost (requests to any other host, all aborted), requests, errors (page errors before the
// canary), failure (when a step failed).
"use strict";
const { launchOffline, report } = require("./offline.cjs");


async function main(opts) {
  const { context, page, log } = await launchOffline(opts, { width: 1024, height: 768 });
  const { offHost, errors } = log;
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  const result = { offHost };
  try {
    await page.goto(opts.url, { waitUntil: "load" });
    await page.waitForFunction(() => window.twin !== undefined, null, { timeout: 30000 });
    result.webgl2 = await page.evaluate(() => window.twin.scene.context.webgl2);
    result.tilesLoaded = await page.evaluate(() => window.twin.whenLoaded(90000));
    const t = opts.target;
    await page.evaluate(({ lon, lat, height }) => window.twin.lookAt(lon, lat, height, 250, -89.5), t);
    await page.evaluate(() => window.twin.whenLoaded(90000));
    // Let a few frames render from the new view before clicking.
    await page.evaluate(() => new Promise((r) => setTimeout(r, 500)));
    const at = await page.evaluate(({ lon, lat, height }) => window.twin.toWindow(lon, lat, height), t);
    result.clickAt = at;
    if (at) {
      await page.mouse.click(at.x, at.y);
      await page.waitForFunction(() => window.twin.state.picked !== null, null, { timeout: 10000 }).catch(() => {});
      result.picked = await page.evaluate(() => window.twin.state.picked);
      result.properties = await page.evaluate(() => window.twin.state.properties);
      result.pickedShown = await page.textContent("#twin-picked");
      // Then a corner of the view, over the ground or another building: not this building.
      await page.mouse.click(1000, 24);
      await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
      result.pickedElsewhere = await page.evaluate(() => window.twin.state.picked);
      await page.mouse.click(at.x, at.y); // for the screenshot
      await page.evaluate(() => new Promise((r) => setTimeout(r, 300)));
    }
    result.tilesLoaded = await page.evaluate(() => window.twin.state.tilesLoaded);
    result.errors = errors.slice();
    if (opts.canary) {
      // A request the page makes on purpose to another host: it must show in offHost,
      // which proves the request log sees what the page asks for.
      await page.evaluate((url) => fetch(url).catch(() => null), opts.canary);
    }
  } catch (err) {
    result.failure = String(err && err.stack ? err.stack : err);
    result.errors = errors.slice();
  } finally {
    await page.screenshot({ path: opts.screenshot }).catch((err) => {
      result.screenshotError = String(err);
    });
    result.requests = log.requests;
    await context.close();
  }
  return result;
}

report(main);

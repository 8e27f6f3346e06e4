// Headless Debian Chromium that may reach only the server's host: every request to another
// host is aborted and logged (offHost), page errors and console errors are collected.
"use strict";
const { chromium } = require("playwright-core");

const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  // WebGL on the CPU (SwiftShader), as on a machine without a GPU.
  "--use-angle=swiftshader",
  "--enable-unsafe-swiftshader",
  // A safety net under the request log: no host name but the server's resolves.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
];

// Launch with opts.chromium, opts.userDataDir and opts.allowedHost; return the context, its
// page, the offHost and errors lists (filled as the page runs) and a count of requests.
async function launchOffline(opts, viewport) {
  const context = await chromium.launchPersistentContext(opts.userDataDir, {
    executablePath: opts.chromium,
    headless: true,
    args: ARGS,
    viewport,
  });
  const log = { offHost: [], errors: [], requests: 0 };
  const note = (url) => {
    if (!log.offHost.includes(url)) log.offHost.push(url);
  };
  await context.route("**/*", (route) => {
    const url = route.request().url();
    log.requests += 1;
    if (new URL(url).hostname !== opts.allowedHost) {
      note(url);
      return route.abort();
    }
    return route.continue();
  });
  context.on("request", (req) => {
    const url = req.url();
    if (/^(https?|wss?):/.test(url) && new URL(url).hostname !== opts.allowedHost) note(url);
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("pageerror", (err) => log.errors.push(String(err)));
  return { context, page, log };
}

// Drive the viewer with `steps(page, opts, result, shot)` (opts: the script's one JSON argument,
// with shots, a folder for screenshots, and canary, a URL of another host fetched at the end to
// prove the request log works) and print the result as JSON: offHost, shots, console errors and
// warnings, the app's own errors (window.twinApp.state.errors), requests; failure names the
// step (result.step) that failed.
function runSteps(steps, viewport = { width: 1366, height: 768 }) {
  const main = async (opts) => {
    const { context, page, log } = await launchOffline(opts, viewport);
    const { offHost, errors } = log;
    const warnings = [];
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
      if (msg.type() === "warning" && !msg.text().includes("GL Driver Message")) warnings.push(msg.text());
    });
    const result = { offHost, shots: [], warnings };
    const shot = async (name) => {
      const path = `${opts.shots}/${name}.png`;
      await page.screenshot({ path });
      result.shots.push(path);
    };
    try {
      await steps(page, opts, result, shot);
      result.errors = errors.slice();
      result.appErrors = await page.evaluate(() => window.twinApp.state.errors);
      if (opts.canary) await page.evaluate((url) => fetch(url).catch(() => null), opts.canary);
    } catch (err) {
      result.failure = `${result.step}: ${String(err && err.stack ? err.stack : err)}`;
      result.errors = errors.slice();
      await shot("failure").catch(() => null);
    } finally {
      result.requests = log.requests;
      await context.close();
    }
    return result;
  };
  report(main);
}

// Run main(opts) with the script's one JSON argument; print its result as JSON (exit 2 if it
// threw).
function report(main) {
  main(JSON.parse(process.argv[2]))
    .then((result) => process.stdout.write(JSON.stringify(result)))
    .catch((err) => {
      process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
      process.exit(2);
    });
}

module.exports = { launchOffline, report, runSteps };

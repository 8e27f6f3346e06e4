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

module.exports = { launchOffline };

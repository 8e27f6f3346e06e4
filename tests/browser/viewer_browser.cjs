// Drive the twin's viewer (served at /) in headless Chromium, step by step, with screenshots.
// Usage: NODE_PATH=web/node_modules node viewer_browser.cjs '{"url": ..., ...}'
// Input (one JSON argument): url (the server's / with ?api_key=), chromium, userDataDir, shots
// (a folder for the .png files), allowedHost, canary (a URL on another host fetched at the end
// to prove the request log works), search {text, code} (typed into the search box, and the
// building it must find), target {code, lon, lat, height, floor} (a building clicked from
// straight above, and a floor of it to open), steps (which of load, search, click, floor,
// breadcrumb, language, review, reviewPick, thematic, services, models to run, in order),
// other {code, lon, lat, height} (the building a correction is picked at), reviewPageSize
// (the review queue's page size, to page through it), records (whether the key may see records), suffix
// (added to the names of the screenshots of load and click), typeKey (a key to type into the
// page's prompt: the url then has none).
// Prints one JSON object with what each step saw; failure names the step that failed.
"use strict";
const { runSteps } = require("./offline.cjs");


const pause = (page, ms) => page.evaluate((t) => new Promise((r) => setTimeout(r, t)), ms);

async function settle(page) {
  await page.evaluate(() => window.twinApp.whenLoaded(60000));
  await pause(page, 400);
}

const STEPS = {};

STEPS.load = async (page, opts, result, shot) => {
  await page.goto(opts.url, { waitUntil: "load" });
  if (opts.typeKey) {
    // No key in the address: the page asks for one.
    await page.waitForSelector("#key-dialog[open]", { timeout: 30000 });
    result.keyPrompt = await page.textContent("#key-dialog label span");
    await page.fill("#key-input", opts.typeKey);
    await page.press("#key-input", "Enter");
  }
  await page.waitForFunction(() => window.twinApp !== undefined, null, { timeout: 30000 });
  await page.evaluate(() => window.twinApp.ready);
  result.readyMs = await page.evaluate(() => window.twinApp.state.readyMs);
  result.location = await page.evaluate(() => window.location.pathname + window.location.search);
  await page.evaluate(() => window.twinApp.whenLoaded(60000));
  result.loadedMs = await page.evaluate(() => Math.round(performance.now()));
  result.timings = await page.evaluate(() => window.twinApp.state.timings);
  result.longTasks = await page.evaluate(() => window.twinApp.state.longTasks);
  result.webgl2 = await page.evaluate(() => window.twinApp.map.scene.context.webgl2);
  result.lang = await page.evaluate(() => document.documentElement.lang);
  result.tabs = await page.$$eval("#tabs button", (bs) => bs.map((b) => b.textContent));
  result.legend = await page.$$eval("#legend-rows li", (ls) => ls.map((l) => l.textContent));
  result.districts = await page.$$eval("#block-children li", (ls) => ls.map((l) => l.dataset.code));
  result.scale = await page.textContent("#scale-label");
  await pause(page, 300);
  await shot(`overview${opts.suffix || ""}`);
};

STEPS.search = async (page, opts, result, shot) => {
  await page.click("#search-input");
  await page.keyboard.type(opts.search.text, { delay: 25 });
  await page.waitForSelector("#search-results li[role=option]", { timeout: 15000 });
  result.searches = await page.evaluate(() => window.twinApp.state.searches);
  result.candidates = await page.$$eval("#search-results li[role=option]", (ls) =>
    ls.map((l) => ({ code: l.dataset.code, meta: l.querySelector(".cand-meta").textContent })),
  );
  await shot("search-candidates");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => window.twinApp.state.flights > 0, null, { timeout: 10000 });
  await page.waitForSelector("#insp-body [data-field=code]", { timeout: 10000 });
  await pause(page, 1800); // the flight lasts 1.2 s
  await settle(page);
  result.searchInspected = await page.textContent("#insp-body [data-field=code]");
  result.searchView = await page.evaluate(({ lon, lat }) => {
    const at = window.twinApp.toWindow(lon, lat, 0);
    const c = window.twinApp.map.scene.canvas;
    return at && { x: at.x / c.clientWidth, y: at.y / c.clientHeight };
  }, opts.search);
  await shot("search");
  await page.click("#insp-close");
};

STEPS.click = async (page, opts, result, shot) => {
  const t = opts.target;
  await page.evaluate(({ lon, lat, height }) => window.twinApp.lookAt(lon, lat, height, 220, -89.5), t);
  await settle(page);
  const at = await page.evaluate(({ lon, lat, height }) => window.twinApp.toWindow(lon, lat, height), t);
  result.clickAt = at;
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector("#insp-body [data-field=code]", { timeout: 10000 });
  await pause(page, 300);
  result.inspected = await page.textContent("#insp-body [data-field=code]");
  result.inspectedAddress = await page.textContent("#insp-body [data-field=address]");
  result.inspectedCounts = await page.$$eval("#insp-body [data-field=counts] div", (ds) =>
    Object.fromEntries(ds.map((d) => [d.dataset.key, d.querySelector("b").textContent])),
  );
  if (opts.records) {
    await page.waitForSelector("#insp-body [data-field=records] li", { timeout: 10000 });
    result.records = await page.$$eval("#insp-body [data-field=records] li", (ls) =>
      ls.map((l) => ({ kind: l.dataset.kind, text: l.textContent })),
    );
  } else {
    result.noRecords = await page.textContent("#insp-body [data-field=no-records]");
  }
  result.crumbs = await page.$$eval("#crumbs a", (as) =>
    as.map((a) => ({ code: a.dataset.code, level: a.dataset.level, name: a.textContent })),
  );
  // Close up, the roads and door plates of the view come from the vector tiles.
  await page.waitForFunction(() => window.twinApp.state.streetTiles > 0, null, { timeout: 15000 });
  await pause(page, 500);
  result.streets = await page.evaluate(() => {
    const s = window.twinApp.state;
    return { tiles: s.streetTiles, roads: s.roads, doorPlates: s.doorPlates };
  });
  await shot(`inspector${opts.suffix || ""}`);
};

STEPS.floor = async (page, opts, result, shot) => {
  const t = opts.target;
  await page.click(`#insp-body .floors button[data-floor="${t.floor}"]`);
  await page.waitForSelector("#insp-body [data-field=rooms] li", { timeout: 10000 });
  await pause(page, 1300); // the flight to the floor lasts 1 s
  await settle(page);
  result.hidden = await page.evaluate(() => window.twinApp.state.hidden);
  result.rooms = await page.$$eval("#insp-body [data-field=rooms] li", (ls) =>
    ls.map((l) => ({ code: l.dataset.code, text: l.textContent })),
  );
  await page.click("#insp-body [data-field=rooms] li");
  result.roomInfo = await page.textContent("#insp-body [data-field=room]");
  await shot("floor");
};

STEPS.breadcrumb = async (page, opts, result, shot) => {
  await page.click('#crumbs a[data-level="community"]');
  await page.waitForFunction(
    () => document.querySelector("#crumbs li:last-child a").dataset.level === "community",
    null,
    { timeout: 10000 },
  );
  await page.waitForSelector("#block-children li", { timeout: 10000 });
  await pause(page, 1600);
  await settle(page);
  result.communityNumbers = await page.$$eval("#block-numbers div", (ds) =>
    Object.fromEntries(ds.map((d) => [d.dataset.key, d.querySelector("b").textContent])),
  );
  result.grids = await page.$$eval("#block-children li", (ls) => ls.map((l) => l.dataset.code));
  await shot("blocks");
};

STEPS.language = async (page, opts, result, shot) => {
  await page.click('#lang button[data-lang="en"]');
  result.langAfter = await page.evaluate(() => document.documentElement.lang);
  result.tabsAfter = await page.$$eval("#tabs button", (bs) => bs.map((b) => b.textContent));
  result.placeholderAfter = await page.getAttribute("#search-input", "placeholder");
  result.crumbsAfter = await page.$$eval("#crumbs a", (as) => as.map((a) => a.textContent));
  result.inspectorAfter = await page.$$eval("#insp-body dt", (ds) => ds.map((d) => d.textContent));
  result.legendAfter = await page.textContent("#legend-title");
  await shot("english");
};

// The review queue: the pending placements listed; the first located on the map and confirmed.
// A key without `records` sees the note instead.
STEPS.review = async (page, opts, result, shot) => {
  if (opts.reviewPageSize) await page.evaluate((n) => { window.twinApp.review.pageSize = n; }, opts.reviewPageSize);
  await page.click('#tabs button[data-panel="review"]');
  await page.evaluate(() => window.twinApp.state.panelLoads);
  if (!opts.records) {
    result.reviewNote = await page.textContent("#review-note");
    result.reviewNoteShown = await page.isVisible("#review-note");
    result.reviewItems = await page.$$eval("#review-list li", (ls) => ls.length);
    await shot(`review${opts.suffix || ""}`);
    return;
  }
  await page.waitForSelector("#review-list li", { timeout: 10000 });
  result.reviewIds = await page.$$eval("#review-list li", (ls) => ls.map((l) => Number(l.dataset.id)));
  result.reviewSummary = await page.textContent("#review-summary");
  const ids = () => page.$$eval("#review-list li", (ls) => ls.map((l) => Number(l.dataset.id)));
  const turn = async (button) => {
    const before = await page.textContent("#review-page");
    await page.click(button);
    await page.waitForFunction((text) => document.querySelector("#review-page").textContent !== text, before, {
      timeout: 10000,
    });
    return { ids: await ids(), page: await page.textContent("#review-page") };
  };
  if (opts.reviewPageSize) {
    // Paging: the first page, the next, and back.
    result.reviewPage = await page.textContent("#review-page");
    result.reviewPrevDisabled = await page.isDisabled("#review-prev");
    await shot("review-page1");
    result.reviewNext = await turn("#review-next");
    result.reviewNextDisabled = await page.isDisabled("#review-next");
    await shot("review-page2");
    result.reviewBack = await turn("#review-prev");
  }
  const flights = await page.evaluate(() => window.twinApp.state.flights);
  await page.click('#review-list li:first-child button[data-action="locate"]');
  await page.waitForFunction((n) => window.twinApp.state.flights > n, flights, { timeout: 10000 });
  await pause(page, 1800);
  await settle(page);
  result.reviewLocated = await page.evaluate(() => ({
    reviewing: window.twinApp.state.reviewing,
    selected: window.twinApp.state.selected,
  }));
  await shot("review");
  await page.click('#review-list li:first-child button[data-action="confirm"]');
  await page.waitForFunction(() => (window.twinApp.state.reviewed || []).length > 0, null, { timeout: 10000 });
  result.reviewed = await page.evaluate(() => window.twinApp.state.reviewed);
  result.reviewAfter = await ids();
  result.reviewMessage = await page.textContent("#review-summary");
  result.reviewPagerShown = await page.isVisible("#review-pager");
  await shot("review-confirmed");
};

// A correction picked on the map: the first card's pick mode, a real click on another building
// from straight above (opts.other) fills its code, 更正 sends it and the card leaves the queue.
STEPS.reviewPick = async (page, opts, result, shot) => {
  const card = "#review-list li:first-child";
  const ids = () => page.$$eval("#review-list li", (ls) => ls.map((l) => Number(l.dataset.id)));
  await page.evaluate(() => window.twinApp.inspector.card && window.twinApp.inspector.close());
  await page.click(`${card} button[data-action="pick"]`);
  result.pickStarted = await page.evaluate((sel) => ({
    picking: window.twinApp.state.picking,
    pressed: document.querySelector(`${sel} button[data-action="pick"]`).getAttribute("aria-pressed"),
  }), card);
  const o = opts.other;
  await page.evaluate(({ lon, lat, height }) => window.twinApp.lookAt(lon, lat, height, 220, -89.5), o);
  await settle(page);
  const at = await page.evaluate(({ lon, lat, height }) => window.twinApp.toWindow(lon, lat, height), o);
  await page.mouse.click(at.x, at.y);
  await page.waitForFunction(() => Boolean(window.twinApp.state.picked), null, { timeout: 10000 });
  result.picked = await page.evaluate(() => {
    const p = window.twinApp.state.picked;
    return { id: p.id, kind: p.kind, code: p.code };
  });
  result.pickedInput = await page.inputValue(`${card} .rv-tools input`);
  result.pickedHint = await page.textContent(`${card} [data-field=pick]`);
  await pause(page, 300);
  await shot("review-pick");
  const before = await page.evaluate(() => (window.twinApp.state.reviewed || []).length);
  await page.click(`${card} button[data-action="correct"]`);
  await page.waitForFunction((n) => (window.twinApp.state.reviewed || []).length > n, before, { timeout: 10000 });
  result.reviewedAfterPick = await page.evaluate(() => window.twinApp.state.reviewed);
  result.reviewAfterPick = await ids();
  result.pickingAfter = await page.evaluate(() => window.twinApp.state.picking);
  await shot("review-corrected");
};

// Imported BIM models and point clouds: listed in the layers tab, each flown to and its tiles
// loaded; a click on the BIM model names its element; point size and colouring; hidden, shown.
STEPS.models = async (page, opts, result, shot) => {
  await page.click('#tabs button[data-panel="layers"]');
  await page.evaluate(() => window.twinApp.modelsLoaded);
  await page.waitForSelector("#model-list li", { timeout: 15000 });
  result.models = await page.$$eval("#model-list li", (ls) =>
    ls.map((l) => ({ path: l.dataset.path, kind: l.dataset.kind, text: l.querySelector("label").textContent })),
  );
  result.modelFlights = {};
  for (const m of result.models) {
    const flights = await page.evaluate(() => window.twinApp.state.flights);
    await page.click(`#model-list li[data-path="${m.path}"] button[data-action=fly]`);
    await page.waitForFunction((n) => window.twinApp.state.flights > n, flights, { timeout: 10000 });
    await pause(page, 1600); // the flight lasts 1.2 s
    await page.evaluate((path) => window.twinApp.models.whenLoaded(path, 60000), m.path);
    await pause(page, 400);
    if (m.kind === "bim") {
      // The model is in the middle of the view: a click there names its element.
      const c = await page.evaluate(() => {
        const canvas = window.twinApp.map.scene.canvas;
        const r = canvas.getBoundingClientRect();
        return { x: r.left + canvas.clientWidth / 2, y: r.top + canvas.clientHeight / 2 };
      });
      await page.mouse.click(c.x, c.y);
      await page.waitForFunction(() => window.twinApp.models.picked !== null, null, { timeout: 10000 });
      result.modelPicked = await page.evaluate(() => window.twinApp.models.picked.properties);
      result.modelPickedText = await page.textContent("#model-picked");
    }
    await shot(`model-${m.kind}`);
  }
  await page.selectOption("#model-point-colour", "class");
  await page.$eval("#model-point-size", (el) => {
    el.value = "6";
    el.dispatchEvent(new Event("input"));
  });
  await settle(page);
  await shot("model-pointcloud-class");
  result.pointStyle = await page.evaluate(() => {
    const ts = window.twinApp.models.clouds()[0];
    const content = ts.root.content;
    const colours = {};
    for (let i = 0; i < content.featuresLength; i += 1) {
      const f = content.getFeature(i);
      colours[f.getProperty("class")] = f.color.toCssHexString();
    }
    return { size: ts.pointCloudShading.maximumAttenuation, colours };
  });
  const bim = result.models.find((m) => m.kind === "bim").path;
  const shown = (path) => page.evaluate((p) => window.twinApp.models.tilesets[p].show, path);
  // The city's extruded building of the BIM model's code: hidden while the model is shown.
  const building = async () => {
    await settle(page);
    return page.evaluate((code) => window.twinApp.buildingShown(code), opts.target.code);
  };
  result.replaced = await page.evaluate(() => window.twinApp.state.replaced);
  result.buildingWithModel = await building();
  await page.uncheck(`#model-list li[data-path="${bim}"] input`);
  result.bimHidden = !(await shown(bim));
  result.buildingWithoutModel = await building();
  result.replacedWithoutModel = await page.evaluate(() => window.twinApp.state.replaced);
  await shot("model-bim-hidden");
  await page.check(`#model-list li[data-path="${bim}"] input`);
  result.bimShownAgain = await shown(bim);
  result.buildingWithModelAgain = await building();
  result.modelTiles = await page.evaluate(() => window.twinApp.models.tilesLoaded);
  await page.click('#lang button[data-lang="en"]');
  result.modelsEnglish = await page.textContent("#models h3");
  await page.click('#lang button[data-lang="zh"]');
};

// The thematic map: communities filled by people (then renting share), a legend and a list.
STEPS.thematic = async (page, opts, result, shot) => {
  await page.click("#insp-close").catch(() => null);
  await page.evaluate(() => window.twinApp.blocks.show(null));
  await page.evaluate(() => window.twinApp.map.resetView());
  await page.click('#tabs button[data-panel="thematic"]');
  await page.evaluate(() => window.twinApp.state.panelLoads);
  await page.waitForSelector("#thematic-list li", { timeout: 10000 });
  await pause(page, 1300);
  await settle(page);
  const read = () =>
    page.evaluate(() => ({
      level: document.querySelector("#thematic-level").textContent,
      legend: [...document.querySelectorAll("#thematic-legend li")].map((l) => l.textContent),
      rows: [...document.querySelectorAll("#thematic-list li")].map((l) => ({
        code: l.dataset.code,
        value: l.dataset.value,
        text: l.querySelector("b").textContent,
      })),
      fills: window.twinApp.map.fillCount,
      fillsBy: window.twinApp.state.fillsBy,
    }));
  result.thematic = await read();
  await shot(`thematic${opts.suffix || ""}`);
  await page.selectOption("#thematic-stat", "renting");
  result.thematicRenting = await read();
  // Into a community: its grids.
  const community = opts.thematicCommunity || result.thematic.rows[0].code;
  const before = result.thematic.level;
  await page.evaluate((code) => window.twinApp.blocks.show(code), community);
  // The map follows the blocks panel: now the grids of that community.
  await page.waitForFunction((text) => document.querySelector("#thematic-level").textContent !== text, before, {
    timeout: 10000,
  });
  await pause(page, 1300);
  await settle(page);
  result.thematicGrids = await read();
  await shot(`thematic-grids${opts.suffix || ""}`);
  if (opts.thematicGridStat) {
    await page.selectOption("#thematic-stat", opts.thematicGridStat);
    result.thematicGridStat = await read();
    await shot(`thematic-${opts.thematicGridStat}${opts.suffix || ""}`);
  }
  await page.selectOption("#thematic-stat", "people");
};

// The service view: schools per community as a table, the communities filled.
STEPS.services = async (page, opts, result, shot) => {
  await page.evaluate(() => window.twinApp.blocks.show(null));
  await page.evaluate(() => window.twinApp.map.resetView());
  await page.click('#tabs button[data-panel="services"]');
  await page.evaluate(() => window.twinApp.state.panelLoads);
  await page.waitForSelector("#services-table tbody tr", { timeout: 10000 });
  await pause(page, 1300);
  await settle(page);
  result.services = await page.evaluate(() => ({
    summary: document.querySelector("#services-summary").textContent,
    head: [...document.querySelectorAll("#services-table th")].map((c) => c.textContent),
    rows: [...document.querySelectorAll("#services-table tbody tr")].map((r) => ({
      code: r.dataset.code,
      cells: [...r.children].map((c) => c.textContent),
    })),
    fills: window.twinApp.map.fillCount,
    fillsBy: window.twinApp.state.fillsBy,
  }));
  await shot(`services${opts.suffix || ""}`);
  await page.selectOption("#services-kind", "clinic");
  await page.evaluate(() => window.twinApp.services.load().catch(() => null));
  result.servicesClinic = await page.textContent("#services-summary");
  await page.click('#lang button[data-lang="en"]');
  result.servicesEnglish = await page.$$eval("#services-table th", (cs) => cs.map((c) => c.textContent));
  result.tabsEnglish = await page.$$eval("#tabs button", (bs) => bs.map((b) => b.textContent));
  await shot(`services-english${opts.suffix || ""}`);
  await page.click('#lang button[data-lang="zh"]');
};

async function steps(page, opts, result, shot) {
  for (const name of opts.steps) {
    result.step = name;
    await STEPS[name](page, opts, result, shot);
  }
  result.step = "done";
}

runSteps(steps);

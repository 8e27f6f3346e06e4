// The review queue for grid staff: the placements waiting for review (GET /api/v1/review,
// cut to the key's scope by the server), each shown on the map on a click, confirmed or
// corrected with the code of the right address, room or building (POST /api/v1/review/{id}).
// The queue comes a page at a time (limit/offset; the server answers the total), with
// previous/next buttons. Keys without the `records` permission (planners) get a note instead:
// the queue holds people's records.
// A correction's code can be picked on the map: **地图选取** starts the pick mode for one card;
// a click on a building (or, its floor opened in the inspector, on a room; or on a BIM model's
// space or the model of a building) fills the card's code; **更正** sends it; Esc or the button
// again ends the mode.

import { getJson, postJson } from "./api.js";
import { t } from "./i18n.js";

const PAGE = 50;

export class ReviewPanel {
  constructor({ root, map, state, onBuilding, onUnit }) {
    this.root = root;
    this.map = map;
    this.state = state;
    this.onBuilding = onBuilding;
    this.onUnit = onUnit;
    this.items = [];
    this.total = 0;
    this.offset = 0;
    this.pageSize = PAGE;
    this.loaded = false;
    this.message = "";
    /** The card picking its code on the map: {id, code, kind, label}, or null. */
    this.picking = null;
    this.codeInputs = {};
    this.$ = (sel) => root.querySelector(sel);
    const reload = () => this.load().catch((err) => state.showError(err));
    this.$("#review-refresh").addEventListener("click", reload);
    this.$("#review-here").addEventListener("change", reload);
    this.pager = this.makePager();
    document.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.picking) this.stopPicking();
    });
  }

  /** The pager under the list: previous, "from–to / total", next. */
  makePager() {
    const nav = document.createElement("div");
    nav.id = "review-pager";
    nav.className = "pager";
    const button = (id, label, step) => {
      const b = document.createElement("button");
      b.type = "button";
      b.id = id;
      b.dataset.label = label;
      b.addEventListener("click", () =>
        this.load({ offset: this.offset + step * this.pageSize }).catch((err) => this.state.showError(err)),
      );
      return b;
    };
    const prev = button("review-prev", "review.prev", -1);
    const next = button("review-next", "review.next", 1);
    const where = document.createElement("span");
    where.id = "review-page";
    nav.append(prev, where, next);
    this.$("#review-list").after(nav);
    return { nav, prev, next, where };
  }

  get allowed() {
    return Boolean(this.state.me && this.state.me.permissions.includes("records"));
  }

  /** The filter of the queue: the community or grid shown in the blocks panel, when asked. */
  filter() {
    const block = this.state.block || "";
    if (!this.$("#review-here").checked || block.length < 12) return "";
    const q = new URLSearchParams({ community: block.slice(0, 12) });
    if (block.length >= 14) q.set("grid", block.slice(0, 14));
    return `&${q}`;
  }

  /** Fetch a page of the queue (the first unless `offset` is given) and draw it. */
  async load({ offset = 0 } = {}) {
    this.loaded = true;
    if (!this.allowed) {
      this.render();
      return;
    }
    const fetchPage = (at) => getJson(`/api/v1/review?limit=${this.pageSize}&offset=${at}${this.filter()}`);
    let at = Math.max(0, offset);
    let page = await fetchPage(at);
    if (!page.items.length && at > 0 && page.total > 0) {
      // Past the end (the queue shrank): the last page instead.
      at = Math.floor((page.total - 1) / this.pageSize) * this.pageSize;
      page = await fetchPage(at);
    }
    this.items = page.items;
    if (this.picking && !this.items.some((item) => item.id === this.picking.id)) this.stopPicking();
    this.total = page.total;
    this.offset = at;
    this.render();
  }

  render() {
    this.$("#review-note").hidden = this.allowed;
    this.$("#review-tools").hidden = !this.allowed;
    const list = this.$("#review-list");
    const { nav, prev, next, where } = this.pager;
    nav.hidden = !this.allowed || this.total <= this.items.length;
    if (!this.allowed) {
      list.replaceChildren();
      this.$("#review-summary").textContent = "";
      return;
    }
    this.$("#review-summary").textContent = this.message || t("review.count", { n: this.total });
    this.codeInputs = {};
    list.replaceChildren(...this.items.map((item) => this.card(item)));
    for (const b of [prev, next]) b.textContent = t(b.dataset.label);
    prev.disabled = this.offset === 0;
    next.disabled = this.offset + this.items.length >= this.total;
    const from = this.items.length ? this.offset + 1 : 0;
    where.textContent = t("review.range", { from, to: this.offset + this.items.length, total: this.total });
  }

  card(item) {
    const li = document.createElement("li");
    li.dataset.id = item.id;
    li.dataset.kind = item.record_kind;
    const head = document.createElement("div");
    head.className = "rv-head";
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.textContent = t(`kind.${item.record_kind}`);
    const name = document.createElement("b");
    name.textContent = item.name || item.source_id;
    const band = document.createElement("span");
    band.className = `rv-band rv-${item.band}`;
    band.textContent = `${t(`band.${item.band}`)} · ${t("confidence")} ${Math.round(item.confidence * 100)}%`;
    head.append(badge, name, band);
    const given = document.createElement("div");
    given.className = "rv-line";
    given.dataset.field = "input";
    given.textContent = `${t("review.given")}: ${(item.input && item.input.address) || "—"}`;
    const placed = document.createElement("div");
    placed.className = "rv-line";
    placed.textContent = `${t("review.placed")}: ${item.standard_address || this.where(item)}`;
    const tools = document.createElement("div");
    tools.className = "rv-tools";
    const button = (label, action) => {
      const b = document.createElement("button");
      b.type = "button";
      b.dataset.action = action;
      b.textContent = t(label);
      return b;
    };
    const locate = button("review.locate", "locate");
    const confirm = button("review.confirm", "confirm");
    const code = document.createElement("input");
    code.type = "text";
    code.size = 12;
    code.placeholder = t("review.code");
    const picked = this.picking && this.picking.id === item.id ? this.picking : null;
    code.value = (picked && picked.code) || item.building_code || "";
    this.codeInputs[item.id] = code;
    const pick = button("review.pick", "pick");
    pick.setAttribute("aria-pressed", String(Boolean(picked)));
    pick.title = t("review.pickHint");
    const correct = button("review.correct", "correct");
    locate.addEventListener("click", () => this.locate(item).catch((err) => this.state.showError(err)));
    confirm.addEventListener("click", () => this.decide(item, { action: "confirm" }));
    correct.addEventListener("click", () =>
      this.decide(item, { action: "correct", code: code.value.trim() }),
    );
    pick.addEventListener("click", () => (picked ? this.stopPicking() : this.startPicking(item)));
    tools.append(locate, confirm, code, pick, correct);
    li.append(head, given, placed, tools);
    if (picked) {
      li.classList.add("picking");
      const hint = document.createElement("div");
      hint.className = "rv-line rv-pick";
      hint.dataset.field = "pick";
      hint.textContent = picked.code ? t("review.picked", { what: picked.label }) : t("review.pickHint");
      li.append(hint);
    }
    li.addEventListener("click", (ev) => {
      if (ev.target === li || ev.target.closest(".rv-head, .rv-line")) {
        this.locate(item).catch((err) => this.state.showError(err));
      }
    });
    return li;
  }

  /** The finest block a placement reached, as a level and code (for those with no address). */
  where(item) {
    for (const level of ["room", "building", "grid", "community", "street", "district"]) {
      const code = item[`${level}_code`];
      if (code) return `${t(`level.${level}`)} ${code}`;
    }
    return "—";
  }

  /** Show a placement on the map: its point (from the record), else its building or unit. */
  async locate(item) {
    this.state.reviewing = item.id;
    for (const li of this.$("#review-list").children) li.classList.toggle("on", li.dataset.id === String(item.id));
    const input = item.input || {};
    const lon = Number(input.lon);
    const lat = Number(input.lat);
    if (item.building_code) {
      await this.onBuilding(item.building_code);
    } else if (item.grid_code || item.community_code) {
      await this.onUnit(item.grid_code || item.community_code, !Number.isFinite(lon));
    }
    if (Number.isFinite(lon) && Number.isFinite(lat) && input.lon !== undefined && input.lat !== undefined) {
      this.map.markPoint(lon, lat);
      if (!item.building_code) this.map.flyToPoint(lon, lat, 300);
    } else {
      this.map.markPoint(null);
    }
    this.state.flights += 1;
  }

  /** Start picking the right building or room of a placement on the map (one card at a time). */
  startPicking(item) {
    this.picking = { id: item.id, code: null, kind: null, label: "" };
    this.state.picking = item.id;
    document.body.classList.add("picking");
    this.render();
  }

  stopPicking() {
    this.picking = null;
    this.state.picking = null;
    document.body.classList.remove("picking");
    this.render();
  }

  /**
   * A click on the map while picking: a building, a room or a BIM model (its space's room, or
   * the building it is linked to) fills the card's code. Returns whether it was taken.
   */
  pick(hit) {
    if (!this.picking || !hit) return false;
    const p = hit.properties || hit;
    let choice = null;
    if (hit.kind === "building" && p.code) {
      choice = { kind: "building", code: String(p.code), label: t("review.pickedBuilding", { code: p.code }) };
    } else if ((hit.kind === "room" || hit.kind === "model") && p.room_code) {
      const label = t("review.pickedRoom", { room: p.room_no || "", code: p.room_code });
      choice = { kind: "room", code: String(p.room_code), label };
    } else if (hit.kind === "model" && hit.building) {
      choice = { kind: "building", code: hit.building, label: t("review.pickedBuilding", { code: hit.building }) };
    }
    if (!choice) return false;
    Object.assign(this.picking, choice);
    this.state.picked = { id: this.picking.id, ...choice };
    const input = this.codeInputs[this.picking.id];
    if (input) input.value = choice.code;
    this.render();
    return true;
  }

  /** Confirm or correct one placement; on success it leaves the queue (the page is fetched again). */
  async decide(item, body) {
    let decided = null;
    try {
      if (body.action === "correct" && !body.code) throw new Error(t("review.needCode"));
      const done = await postJson(`/api/v1/review/${item.id}`, body);
      decided = { id: item.id, status: done.review_status };
      if (this.picking && this.picking.id === item.id) this.stopPicking();
      this.message = t(`review.done.${done.review_status}`, { id: item.id });
      this.map.markPoint(null);
      await this.load({ offset: this.offset });
    } catch (err) {
      this.message = String(err.message || err);
      this.render();
    }
    this.message = "";
    // Recorded last, once the list shows the queue without it.
    if (decided) this.state.reviewed = (this.state.reviewed || []).concat([decided]);
  }
}

// The review queue for grid staff: the placements waiting for review (GET /api/v1/review,
// cut to the key's scope by the server), each shown on the map on a click, confirmed or
// corrected with the code of the right address, room or building (POST /api/v1/review/{id}).
// Keys without the `records` permission (planners) get a note instead: the queue holds
// people's records.

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
    this.loaded = false;
    this.message = "";
    this.$ = (sel) => root.querySelector(sel);
    this.$("#review-refresh").addEventListener("click", () => this.load().catch((err) => state.showError(err)));
    this.$("#review-here").addEventListener("change", () => this.load().catch((err) => state.showError(err)));
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

  /** Fetch the queue (first page) and draw it; planners get the note. */
  async load() {
    this.loaded = true;
    if (!this.allowed) {
      this.render();
      return;
    }
    const page = await getJson(`/api/v1/review?limit=${PAGE}${this.filter()}`);
    this.items = page.items;
    this.render();
  }

  render() {
    this.$("#review-note").hidden = this.allowed;
    this.$("#review-tools").hidden = !this.allowed;
    const list = this.$("#review-list");
    if (!this.allowed) {
      list.replaceChildren();
      this.$("#review-summary").textContent = "";
      return;
    }
    this.$("#review-summary").textContent = this.message || t("review.count", { n: this.items.length });
    list.replaceChildren(...this.items.map((item) => this.card(item)));
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
    code.value = item.building_code || "";
    const correct = button("review.correct", "correct");
    locate.addEventListener("click", () => this.locate(item).catch((err) => this.state.showError(err)));
    confirm.addEventListener("click", () => this.decide(item, { action: "confirm" }));
    correct.addEventListener("click", () =>
      this.decide(item, { action: "correct", code: code.value.trim() }),
    );
    tools.append(locate, confirm, code, correct);
    li.append(head, given, placed, tools);
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

  /** Confirm or correct one placement; on success it leaves the queue. */
  async decide(item, body) {
    try {
      if (body.action === "correct" && !body.code) throw new Error(t("review.needCode"));
      const done = await postJson(`/api/v1/review/${item.id}`, body);
      this.items = this.items.filter((x) => x.id !== item.id);
      this.state.reviewed = (this.state.reviewed || []).concat([{ id: item.id, status: done.review_status }]);
      this.message = t(`review.done.${done.review_status}`, { id: item.id });
      this.map.markPoint(null);
    } catch (err) {
      this.message = String(err.message || err);
    }
    this.render();
    this.message = "";
  }
}

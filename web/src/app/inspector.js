// The building inspector: codes, standard address and aliases, floors, counts; the building
// floor by floor (rooms coloured by the people in them); and, for roles allowed individual
// records, the people, companies and events placed in it, masked by the server.

import { getJson } from "./api.js";
import { fmt } from "./blocks.js";
import { floorLabel, t } from "./i18n.js";
import { OCCUPANCY_LEGEND, occupancyColour } from "./stats.js";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function definitions(rows) {
  return el("dl", {}, ...rows.flatMap(([key, value, id]) => [
    el("dt", {}, t(key)),
    el("dd", id ? { "data-field": id } : {}, value === null || value === undefined ? "—" : String(value)),
  ]));
}

export class Inspector {
  constructor({ root, body, map, state, onClose, onFloor }) {
    Object.assign(this, { root, body, map, state, onClose, onFloor });
    this.card = null;
    this.rooms = null;
    this.floor = null;
    this.records = null;
    this.room = null;
  }

  async open(code) {
    this.state.inspecting = code;
    const card = await getJson(`/api/v1/buildings/${code}`);
    if (this.state.inspecting !== code) return card;
    this.card = card;
    this.rooms = null;
    this.floor = null;
    this.room = null;
    this.records = null;
    this.root.hidden = false;
    document.body.classList.add("inspecting");
    this.render();
    if (this.state.me && this.state.me.permissions.includes("records") && this.covers(code)) {
      getJson(`/api/v1/buildings/${code}/records?limit=200`)
        .then((data) => {
          if (this.card && this.card.code === code) {
            this.records = data.records;
            this.render();
          }
        })
        .catch((err) => this.state.showError(err));
    }
    return card;
  }

  covers(code) {
    const scope = this.state.me && this.state.me.scope;
    return !scope || code.startsWith(scope);
  }

  close() {
    this.card = null;
    this.state.inspecting = null;
    this.root.hidden = true;
    document.body.classList.remove("inspecting");
    this.map.showInterior(null, null);
    this.onClose();
  }

  /** Open one floor (null: the whole building again). */
  async showFloor(floorNo) {
    const code = this.card.code;
    if (floorNo !== null && !this.rooms) {
      this.rooms = await getJson(`/api/v1/buildings/${code}/rooms`);
    }
    if (!this.card || this.card.code !== code) return;
    this.floor = floorNo;
    this.room = null;
    this.map.showInterior(this.rooms, floorNo, (p) => occupancyColour(p.people));
    this.onFloor(floorNo === null ? null : code);
    const onFloor = this.rooms ? this.rooms.features.find((f) => f.properties.floor_no === floorNo) : null;
    if (onFloor) {
      const [lon, lat] = this.card.location;
      this.map.flyToFloor(lon, lat, onFloor.properties.bottom_m, Math.max(90, this.card.height_m * 0.8));
    }
    this.render();
  }

  showRoom(room) {
    this.room = room;
    this.render();
  }

  render() {
    const c = this.card;
    if (!c) return;
    const a = c.address;
    const parts = [
      el("h3", {}, c.name || c.code),
      definitions([
        ["code.building", c.code, "code"],
        ["code.address", a && a.code, "address-code"],
        ["code.grid", c.grid_code],
        ["address", a && a.text, "address"],
        ["use", c.use ? t(`use.${c.use}`) : null],
        ["height", `${c.height_m} m`],
        ["floorsAbove", c.floors],
        ["floorsBelow", c.basement_floors],
        ["built", c.built_year],
        ["rooms", c.rooms],
      ]),
      el("div", { class: "numbers", "data-field": "counts" },
        ...["people", "companies", "events"].map((k) =>
          el("div", { "data-key": k }, el("b", {}, fmt(c[k])), el("span", {}, t(k))))),
    ];
    if (a && a.aliases.length) {
      parts.push(el("h3", {}, t("aliases")),
        el("ul", { class: "aliases" }, ...a.aliases.map((x) => el("li", {}, x.text))));
    }
    parts.push(el("h3", {}, t("floorStack")), this.floorButtons());
    if (this.floor !== null) parts.push(this.floorDetail());
    parts.push(el("h3", {}, t("records")), this.recordList());
    this.body.replaceChildren(...parts);
  }

  floorButtons() {
    const floors = [...this.card.floor_list].sort((x, y) => y.floor_no - x.floor_no);
    const button = (no, label, title) => {
      const b = el("button", { type: "button", class: no === this.floor ? "on" : "", title }, label);
      b.dataset.floor = no === null ? "" : String(no);
      b.addEventListener("click", () => this.showFloor(no).catch((err) => this.state.showError(err)));
      return b;
    };
    return el("div", { class: "floors" },
      button(null, t("wholeBuilding"), ""),
      ...floors.map((f) => button(f.floor_no, floorLabel(f.floor_no),
        `${fmt(f.rooms)} ${t("rooms")} · ${fmt(f.people)} ${t("people")}`)));
  }

  floorDetail() {
    const rooms = this.rooms.features.map((f) => f.properties)
      .filter((p) => p.floor_no === this.floor && p.room_code);
    const legend = el("ul", { class: "records" }, el("li", {}, t("occupancy")),
      ...OCCUPANCY_LEGEND.map(([colour, label]) =>
        el("li", {}, el("i", { class: "swatch", style: `background:${colour}` }), ` ${label}`)));
    for (const sw of legend.querySelectorAll("i.swatch")) {
      Object.assign(sw.style, { display: "inline-block", width: "14px", height: "10px" });
    }
    const info = this.room
      ? el("div", { class: "room-info", "data-field": "room" },
          `${t("room")} ${this.room.room_no} · ${floorLabel(this.room.floor_no)} · `
          + `${fmt(this.room.people)} ${t("people")} · ${this.room.room_code}`)
      : null;
    const list = el("ul", { class: "list", "data-field": "rooms" }, ...rooms.map((p) =>
      el("li", { "data-code": p.room_code }, el("span", {}, `${t("room")} ${p.room_no}`),
        el("span", { class: "n" }, p.people === 0 ? t("empty") : `${fmt(p.people)} ${t("people")}`))));
    for (const li of list.children) {
      li.addEventListener("click", () =>
        this.showRoom(rooms.find((p) => p.room_code === li.dataset.code)));
    }
    return el("div", {}, info, legend, list);
  }

  recordList() {
    if (!this.state.me || !this.state.me.permissions.includes("records") || !this.covers(this.card.code)) {
      return el("p", { class: "note", "data-field": "no-records" }, t("noRecords"));
    }
    if (this.records === null) return el("p", { class: "note" }, t("loading"));
    const line = (r) => {
      const where = r.floor_no === null ? "" : ` · ${floorLabel(r.floor_no)} ${r.room_no || ""}`;
      if (r.kind === "person") return `${r.name} · ${r.id_number || "—"} · ${r.phone || "—"}${where}`;
      if (r.kind === "legal_entity") return `${r.name} · ${r.uscc || "—"}${where}`;
      return `${r.event_type} · ${(r.occurred_at || "").slice(0, 10)} · ${r.status}${where}`;
    };
    return el("ul", { class: "records", "data-field": "records" }, ...this.records.map((r) =>
      el("li", { "data-kind": r.kind }, el("span", { class: "badge" }, t(`kind.${r.kind}`)), line(r))));
  }
}

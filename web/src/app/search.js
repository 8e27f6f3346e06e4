// The search box: geocodes as you type (debounced, stale answers cancelled), lists the
// candidates with their level and confidence, and hands the chosen one to onChoose.

import { getJson } from "./api.js";
import { t } from "./i18n.js";

const DEBOUNCE_MS = 250;

export function setupSearch({ input, list, onChoose, state }) {
  let timer = null;
  let pending = null;
  let results = [];
  let active = -1;

  const close = () => {
    list.hidden = true;
    active = -1;
  };

  const render = () => {
    list.replaceChildren();
    if (!results.length) {
      const li = document.createElement("li");
      li.className = "cand-empty";
      li.textContent = t("noResults");
      list.append(li);
    }
    results.forEach((r, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === active));
      li.dataset.code = r.code;
      const text = document.createElement("span");
      text.className = "cand-text";
      text.textContent = r.text;
      const meta = document.createElement("span");
      meta.className = "cand-meta";
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = t(`level.${r.level}`);
      meta.append(badge, `${t("confidence")} ${Math.round(r.confidence * 100)}% · ${r.code}`);
      li.append(text, meta);
      li.addEventListener("mousedown", (ev) => {
        ev.preventDefault();
        choose(i);
      });
      list.append(li);
    });
    list.hidden = false;
  };

  const choose = (i) => {
    const r = results[i];
    if (!r) return;
    close();
    input.value = r.text;
    onChoose(r);
  };

  const run = async (q) => {
    if (pending) pending.abort();
    pending = new AbortController();
    const mine = pending;
    state.searches += 1;
    try {
      const data = await getJson(`/api/v1/viewer/search?q=${encodeURIComponent(q)}`, {
        signal: mine.signal,
      });
      if (mine !== pending) return;
      results = data.results;
      active = results.length ? 0 : -1;
      state.lastSearch = { query: q, results };
      render();
    } catch (err) {
      if (err.name !== "AbortError") state.showError(err);
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) {
      close();
      return;
    }
    timer = setTimeout(() => run(q), DEBOUNCE_MS);
  });
  input.addEventListener("keydown", (ev) => {
    if (list.hidden) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      const step = ev.key === "ArrowDown" ? 1 : -1;
      active = (active + step + results.length) % Math.max(results.length, 1);
      render();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      choose(Math.max(active, 0));
    } else if (ev.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));
  return { rerender: () => (list.hidden ? null : render()) };
}

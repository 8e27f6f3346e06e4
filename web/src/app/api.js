// The server's API, with the page's key: ?api_key= on the page (kept for the session in
// sessionStorage and removed from the address bar), sent as "Authorization: Bearer".

let key = null;

/** Take the key from the page's address (or the session); return it, or null. */
export function initKey(params) {
  key = params.get("api_key") || window.sessionStorage.getItem("twin.key");
  if (params.get("api_key")) {
    window.sessionStorage.setItem("twin.key", key);
  }
  return key;
}

export function setKey(value) {
  key = value;
  window.sessionStorage.setItem("twin.key", value);
}

export function hasKey() {
  return Boolean(key);
}

export function authHeaders() {
  return key ? { Authorization: `Bearer ${key}` } : {};
}

/** GET a JSON document of the server; throws an Error with the server's detail otherwise. */
export async function getJson(path, { signal } = {}) {
  return answer(await fetch(path, { headers: authHeaders(), signal }));
}

/** POST a JSON body to the server; its JSON answer, or an Error with the server's detail. */
export async function postJson(path, body) {
  const headers = { ...authHeaders(), "Content-Type": "application/json" };
  return answer(await fetch(path, { method: "POST", headers, body: JSON.stringify(body) }));
}

async function answer(res) {
  if (!res.ok) {
    let detail = res.statusText;
    try {
      detail = (await res.json()).detail || detail;
    } catch {
      // not JSON: keep the status text
    }
    const err = new Error(`${res.status} ${detail}`);
    err.status = res.status;
    throw err;
  }
  return res.json();
}

/** Calls to the analytics API with the key this tab holds (sessionStorage, sent only as a header),
 * or, on a share link's page (/share/<token>), to that link's own API with no key at all. */

const KEY_STORAGE = "pulsegate_dashboard_key";
// The server marks a share link's page: its project, and `data-embed` for the frameless view.
const shareMeta = document.querySelector('meta[name="pulsegate-share"]');
const SHARE_GONE = "Share link not found";

/** On a share link's page: its project, whether it is embedded, and where its API is; else null. */
export const share = shareMeta
  ? { project: shareMeta.content, embed: shareMeta.dataset.embed === "1", base: `${location.pathname.replace(/\/+$/, "")}/api` }
  : null;

/** The server refused the key (401): the dashboard asks for another. On a share link: its
 * password cookie is missing or stale (401), or the link was revoked or has expired (`gone`). */
export class KeyRefused extends Error {
  constructor(message, gone = false) {
    super(message);
    this.gone = gone;
  }
}

/** Any other failed call, with the server's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function hasKey() {
  if (share) return true; // the link is the key
  return Boolean(sessionStorage.getItem(KEY_STORAGE));
}

export function rememberKey(key) {
  sessionStorage.setItem(KEY_STORAGE, key);
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
}

/** GET `path` with `params`; the parsed JSON answer, or KeyRefused / ApiError. */
export async function api(path, params = {}) {
  const url = new URL(share ? share.base + path : path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    // A list is the parameter repeated (filter=…&filter=…).
    if (Array.isArray(value)) value.forEach((item) => url.searchParams.append(name, String(item)));
    else if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  // A share link's password cookie is HttpOnly and scoped to the link's path: sent, never read.
  const response = await fetch(url, {
    headers: share ? {} : { "X-API-Key": sessionStorage.getItem(KEY_STORAGE) || "" },
    cache: "no-store",
    credentials: share ? "same-origin" : "omit",
  });
  if (response.status === 401) throw new KeyRefused(share ? "The link's password is needed" : "The API key was refused");
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (share && response.status === 404 && body && String(body.error).startsWith(SHARE_GONE)) {
    throw new KeyRefused(body.error, true);
  }
  if (!response.ok) throw new ApiError(response.status, (body && body.error) || `HTTP ${response.status} from ${path}`);
  return body;
}

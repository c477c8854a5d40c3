/** Calls to the analytics API with the key this tab holds (sessionStorage, sent only as a header). */

const KEY_STORAGE = "pulsegate_dashboard_key";

/** The server refused the key (401): the dashboard asks for another. */
export class KeyRefused extends Error {}

/** Any other failed call, with the server's own message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function hasKey() {
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
  const url = new URL(path, location.origin);
  for (const [name, value] of Object.entries(params)) {
    // A list is the parameter repeated (filter=…&filter=…).
    if (Array.isArray(value)) value.forEach((item) => url.searchParams.append(name, String(item)));
    else if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, String(value));
  }
  const response = await fetch(url, {
    headers: { "X-API-Key": sessionStorage.getItem(KEY_STORAGE) || "" },
    cache: "no-store",
    credentials: "omit",
  });
  if (response.status === 401) throw new KeyRefused("The API key was refused");
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, (body && body.error) || `HTTP ${response.status} from ${path}`);
  return body;
}

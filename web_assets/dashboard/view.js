/** Building DOM from data, always as text (never HTML), and formatting numbers for people. */

/** An element with attributes and children; strings become text nodes, never markup. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null && value !== false) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

/** Replace an element's children. */
export function fill(element, children) {
  element.replaceChildren(...children);
}

export function formatNumber(value) {
  return value == null ? "–" : Number(value).toLocaleString();
}

export function formatPercent(fraction) {
  if (fraction == null) return "–";
  const percent = fraction * 100;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

export function formatDuration(ms) {
  if (ms == null) return "–";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h ${String(minutes % 60).padStart(2, "0")}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

export function formatTime(ms) {
  return new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

const regionNames = "DisplayNames" in Intl ? new Intl.DisplayNames(undefined, { type: "region" }) : null;

/** "DE" → "Germany" where the browser knows it; null → "Unknown". */
export function countryName(code) {
  if (!code) return "Unknown";
  try {
    return (regionNames && regionNames.of(code)) || code;
  } catch {
    return code;
  }
}

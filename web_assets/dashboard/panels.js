/** The report panels (Sources, Pages, Locations, Devices, Events), declared once: their tabs, and how a row is drawn. */

import { h, fill, formatDuration, formatNumber } from "./view.js";
import { isFilter, valueLabel } from "./filters.js";

/** Each tab is one breakdown: its dimension, the metric its rows are ranked and drawn by, and that
 * column's heading. The first tab's table keeps the panel's id (`#sources`, `#pages`, …). */
export const REPORT_PANELS = [
  { id: "sources", title: "Sources", tabs: [
    { dimension: "source", label: "Sources", metric: "sessions", column: "Sessions" },
    { dimension: "utm_source", label: "UTM source", metric: "sessions", column: "Sessions" },
    { dimension: "utm_medium", label: "UTM medium", metric: "sessions", column: "Sessions" },
    { dimension: "utm_campaign", label: "UTM campaign", metric: "sessions", column: "Sessions" },
    { dimension: "referrer", label: "Referrers", metric: "sessions", column: "Sessions" },
  ] },
  { id: "pages", title: "Pages", tabs: [
    { dimension: "page", label: "Top", metric: "pageviews", column: "Views" },
    { dimension: "entry_page", label: "Entry", metric: "sessions", column: "Entries" },
    { dimension: "exit_page", label: "Exit", metric: "sessions", column: "Exits" },
  ] },
  { id: "countries", title: "Locations", tabs: [
    { dimension: "country", label: "Countries", metric: "sessions", column: "Sessions" },
  ] },
  { id: "devices", title: "Devices", tabs: [
    { dimension: "browser", label: "Browsers", metric: "sessions", column: "Sessions" },
    { dimension: "os", label: "Operating systems", metric: "sessions", column: "Sessions" },
    { dimension: "device", label: "Devices", metric: "sessions", column: "Sessions" },
    { dimension: "screen", label: "Screens", metric: "sessions", column: "Sessions" },
  ] },
  // A custom event's row opens its properties instead of filtering (`properties: true`).
  { id: "events", title: "Events", tabs: [
    { dimension: "event", label: "Custom events", metric: "events", column: "Events", properties: true },
  ] },
];

/** The metrics of each kind of dimension, as the API offers them (README, "Reports"). */
export const METRICS = {
  visitors: { label: "Visitors", format: formatNumber },
  sessions: { label: "Sessions", format: formatNumber },
  pageviews: { label: "Page views", format: formatNumber },
  events: { label: "Events", format: formatNumber },
  views_per_session: { label: "Views per session", format: (v) => (v == null ? "–" : v.toFixed(1)) },
  bounce_rate: { label: "Bounce rate", format: formatRate },
  avg_engaged_ms: { label: "Engaged time", format: formatDuration },
  avg_score: { label: "Score", format: (v) => (v == null ? "–" : v.toFixed(0)) },
  leads: { label: "Leads", format: formatNumber },
  conversion_rate: { label: "Conversion", format: formatRate },
  conversions: { label: "Conversions", format: formatNumber },
  goal_conversion_rate: { label: "Goal conversion", format: formatRate },
};
const SESSION_METRICS = ["visitors", "sessions", "bounce_rate", "avg_engaged_ms", "leads", "conversion_rate"];

/** The columns a details view shows for a breakdown by `dimension`. */
export function detailMetrics(dimension) {
  if (dimension === "page") return ["visitors", "pageviews", "avg_engaged_ms"];
  if (["event", "outbound", "download"].includes(dimension) || dimension.startsWith("prop:")) return ["visitors", "events"];
  return SESSION_METRICS;
}

/** A rate the API gives in percent (0–100). */
export function formatRate(percent) {
  return percent == null ? "–" : `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** The panels' sections, inserted before `before`; `on` has tab(panel, index), row(tab, row, filter text) and details(panel). */
export function buildReportPanels(before, on) {
  for (const panel of REPORT_PANELS) {
    const tabs = panel.tabs.length > 1
      ? h("div", { class: "tabs", role: "tablist", "aria-label": panel.title }, ...panel.tabs.map((tab, index) =>
        h("button", { type: "button", role: "tab", class: "tab", "data-tab": index, "aria-selected": index === 0 ? "true" : "false" }, tab.label)))
      : null;
    const table = h("table", { class: "ranked", id: panel.id },
      h("thead", {}, h("tr", {}, h("th", {}, panel.tabs[0].label), h("th", {}, panel.tabs[0].column))), h("tbody"));
    const section = h("section", { class: "panel report", id: `panel-${panel.id}`, "data-panel": panel.id },
      h("div", { class: "panel-head" }, h("h2", {}, panel.title), tabs),
      table,
      h("button", { type: "button", class: "quiet details-open" }, "Details"));
    if (tabs) tabs.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-tab]");
      if (button) on.tab(panel, Number(button.dataset.tab));
    });
    table.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-row]");
      if (button) on.row(panel.tabs[Number(table.dataset.tab || 0)], button.row, button.dataset.filter);
    });
    section.querySelector(".details-open").addEventListener("click", () => on.details(panel));
    before.before(section);
  }
}

/** Mark tab `index` of `panel` as chosen and name its columns. */
export function selectTab(panel, index) {
  const section = document.getElementById(`panel-${panel.id}`);
  section.querySelectorAll("[role=tab]").forEach((button) => button.setAttribute("aria-selected", String(Number(button.dataset.tab) === index)));
  const table = document.getElementById(panel.id);
  table.dataset.tab = String(index);
  const [name, value] = table.tHead.rows[0].cells;
  name.textContent = panel.tabs[index].label;
  value.textContent = panel.tabs[index].column;
}

/** Rows with a bar as wide as each row's share of the largest; a row with a value is a button
 * that filters the dashboard (or, for custom events, opens their properties). */
export function drawRanked(table, tab, rows, emptyText) {
  const body = table.tBodies[0];
  if (!rows.length) return fill(body, [h("tr", {}, h("td", { colspan: 2, class: "muted" }, emptyText))]);
  const largest = Math.max(...rows.map((row) => row[tab.metric] || 0), 1);
  fill(body, rows.map((row) => {
    const bar = h("span", { class: "share" });
    bar.style.width = `${(100 * (row[tab.metric] || 0)) / largest}%`; // CSSOM, which the page's CSP allows
    const label = valueLabel(tab.dimension, row.value);
    const title = rowTitle(tab, row, label);
    let name;
    if (row.value === null) {
      name = h("span", { title }, label); // "is none" is not a filter the API has
    } else {
      name = h("button", { type: "button", class: "link", "data-row": "", title,
        "data-filter": tab.properties ? null : isFilter(tab.dimension, row.value) }, label);
      name.row = row;
    }
    return h("tr", {}, h("td", { class: "name" }, bar, name), h("td", { class: "num" }, formatNumber(row[tab.metric])));
  }));
}

function rowTitle(tab, row, label) {
  const more = Object.entries(row).filter(([key]) => key !== "value" && key !== "comparison" && METRICS[key])
    .map(([key, value]) => `${METRICS[key].label.toLowerCase()} ${METRICS[key].format(value)}`);
  const action = row.value === null ? "" : tab.properties ? " · click for its properties" : " · click to filter by it";
  return `${label}: ${more.join(", ")}${action}`;
}

/** A panel's details view: every row of one breakdown, with search, paging and a CSV download; for
 * custom events, their properties. */

import { api } from "./api.js";
import { h, fill, formatNumber } from "./view.js";
import { containsFilter, dimensionLabel, isFilter, valueLabel } from "./filters.js";
import { METRICS, detailMetrics } from "./panels.js";

const PER_PAGE = 20;
const CSV_PAGE = 1000; // the API's largest page
const CSV_MAX_ROWS = 20_000;
const $ = (id) => document.getElementById(id);

// What the open dialog shows. `params` are the dashboard's window and filters when it opened;
// `extra` narrows it further (a custom event, for its properties' values).
let shown = null;
let searchTimer = 0;
let ticket = 0; // the latest table load; older answers are dropped
let propertiesTicket = 0;

/** Open the details of a breakdown by `dimension`. `onFilter(text)` adds a dashboard filter. */
export function openDetails({ dimension, params, extra = [], onFilter, onError, heading }) {
  shown = { dimension, params, extra, onFilter, onError, heading, page: 1, search: "" };
  $("details-q").value = "";
  $("details-properties").hidden = true;
  draw();
  const dialog = $("details");
  if (!dialog.open) dialog.showModal();
}

/** Open a custom event's properties: its keys, each one a breakdown of its values. */
export async function openProperties({ event, params, onFilter, onError }) {
  openDetails({ dimension: "event", params, extra: [isFilter("event", event)], onFilter, onError, heading: `Event “${event}”` });
  const mine = ++propertiesTicket;
  try {
    const found = await api("/analytics/properties", { ...params, event });
    if (mine !== propertiesTicket) return;
    const list = $("details-properties");
    fill(list, found.properties.length
      ? [h("span", { class: "muted" }, "Properties: "), ...found.properties.map((property) => h("button", {
        type: "button", class: "quiet property", "data-key": property.key,
        title: `${formatNumber(property.events)} events, ${formatNumber(property.visitors)} visitors`,
      }, property.key))]
      : [h("span", { class: "muted" }, "This event carried no properties in the period.")]);
    list.hidden = false;
    const choose = (button) => {
      list.querySelectorAll("button[data-key]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
      Object.assign(shown, { dimension: `prop:${button.dataset.key}`, page: 1, search: "" });
      $("details-q").value = "";
      draw();
    };
    list.onclick = (click) => {
      const button = click.target.closest("button[data-key]");
      if (button) choose(button);
    };
    const first = list.querySelector("button[data-key]");
    if (first) choose(first); // the most frequent property's values, at once
  } catch (error) {
    if (mine === propertiesTicket) shown.onError(error);
  }
}

function request(page, limit) {
  const filters = [...(shown.params.filter || []), ...shown.extra];
  if (shown.search) filters.push(containsFilter(shown.dimension, shown.search));
  return { ...shown.params, dimension: shown.dimension, metrics: detailMetrics(shown.dimension).join(","), filter: filters, page, limit };
}

async function draw() {
  const mine = ++ticket;
  const metrics = detailMetrics(shown.dimension);
  $("details-title").textContent = shown.heading || dimensionLabel(shown.dimension);
  const table = $("details-table");
  fill(table.tHead || table.createTHead(), [h("tr", {}, h("th", {}, dimensionLabel(shown.dimension)), ...metrics.map((m) => h("th", { class: "num" }, METRICS[m].label)))]);
  try {
    const answer = await api("/analytics/breakdown", request(shown.page, PER_PAGE));
    if (mine !== ticket) return;
    const body = table.tBodies[0] || table.createTBody();
    fill(body, answer.rows.length
      ? answer.rows.map((row) => h("tr", {}, h("td", { class: "name" }, rowName(row)),
        ...metrics.map((m) => h("td", { class: "num" }, METRICS[m].format(row[m])))))
      : [h("tr", {}, h("td", { colspan: metrics.length + 1, class: "muted" }, "No rows match.")) ]);
    const pages = Math.max(1, Math.ceil(answer.total_rows / PER_PAGE));
    $("details-page").textContent = `Page ${shown.page} of ${pages} · ${formatNumber(answer.total_rows)} rows`;
    $("details-prev").disabled = shown.page <= 1;
    $("details-next").disabled = shown.page >= pages;
  } catch (error) {
    if (mine === ticket) shown.onError(error);
  }
}

function rowName(row) {
  const label = valueLabel(shown.dimension, row.value);
  if (row.value === null || shown.dimension === "event" && shown.extra.length) return label;
  // A click filters the whole dashboard by this value, as on the panel.
  const button = h("button", { type: "button", class: "link", "data-filter": isFilter(shown.dimension, row.value) }, label);
  button.addEventListener("click", () => {
    $("details").close();
    shown.onFilter([...shown.extra, button.dataset.filter]);
  });
  return button;
}

/** Every row of the shown breakdown (as searched) as CSV, downloaded as a file. */
async function downloadCsv() {
  const metrics = detailMetrics(shown.dimension);
  const lines = [["value", ...metrics]];
  for (let page = 1; lines.length - 1 < CSV_MAX_ROWS; page++) {
    const answer = await api("/analytics/breakdown", request(page, CSV_PAGE));
    lines.push(...answer.rows.map((row) => [row.value, ...metrics.map((m) => row[m])]));
    if (page * CSV_PAGE >= answer.total_rows) break;
  }
  const text = lines.map((line) => line.map(csvCell).join(",")).join("\r\n") + "\r\n";
  const link = h("a", { href: URL.createObjectURL(new Blob([text], { type: "text/csv" })), download: `pulsegate-${shown.dimension.replace(":", "-")}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

/** A CSV cell: quoted when needed, and a leading = + - @ neutralised so a spreadsheet does not run it. */
export function csvCell(value) {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function wireDetails() {
  $("details-q").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      shown.search = $("details-q").value.trim();
      shown.page = 1;
      draw();
    }, 250);
  });
  $("details-prev").addEventListener("click", () => { shown.page--; draw(); });
  $("details-next").addEventListener("click", () => { shown.page++; draw(); });
  $("details-csv").addEventListener("click", () => downloadCsv().catch((error) => shown.onError(error)));
}

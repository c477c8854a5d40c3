/** The PulseGate dashboard: reads the public analytics API with the key this tab was given. */

import { barChart } from "./charts.js";
import { api, forgetKey, hasKey, KeyRefused, rememberKey, share } from "./api.js";
import { h, formatDuration, formatNumber, formatPercent, formatTime, countryName, fill } from "./view.js";
import { filterLabel, parseFilter } from "./filters.js";
import { METRICS, REPORT_PANELS, buildReportPanels, drawRanked, formatRate, selectTab } from "./panels.js";
import { openDetails, openProperties, wireDetails } from "./details.js";
import { drawFunnel, drawGoals, fillFunnelPicker, funnelHint } from "./conversions.js";
import {
  ATTRIBUTION_TABS, MODELS, attributionPairs, drawAttribution, drawAttributionTabs, drawForms, drawWon, touchLabel, touchRoles,
} from "./leads.js";

const REALTIME_MS = 10_000;
const LEADS_PER_PAGE = 20;
const PERIODS = ["today", "7d", "30d", "90d", "custom"];
const COMPARES = ["", "previous", "year"];
const CHART_METRICS = ["visitors", "sessions", "pageviews", "leads", "conversion_rate", "avg_engaged_ms"];
const INTERVALS = ["", "hour", "day", "week", "month"];
const MAX_FILTERS = 10; // the API's limit
const $ = (id) => document.getElementById(id);
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

// What is on screen, mirrored in the URL (never the key) so a view can be shared and reloaded.
const view = readUrl();
let realtimeTimer = 0;
let leadsSearchTimer = 0;
let allProjects = true; // the key sees every project (else the storage panel is not for it)
// Each panel draws only its latest answer: a slow reply to an older choice is dropped. `epoch`
// moves on at every sign-in and sign-out, which drops everything still in flight.
const tickets = new Map();
const failures = new Map();
let epoch = 0;
const tabs = new Map(Object.entries(view.tabs)); // report panel id -> its chosen tab (`tab.<id>` in the URL)

function readUrl() {
  const query = new URLSearchParams(location.search);
  const period = query.get("period");
  return {
    project: query.get("project") || "",
    period: PERIODS.includes(period) ? period : "30d",
    from: query.get("from") || "",
    to: query.get("to") || "",
    leadStatus: query.get("status") || "",
    leadSource: query.get("source") || "",
    leadQuery: query.get("q") || "",
    leadPage: Math.max(1, Number(query.get("page")) || 1),
    filters: query.getAll("filter").filter((text) => parseFilter(text)).slice(0, MAX_FILTERS),
    compare: COMPARES.includes(query.get("compare")) ? query.get("compare") : "",
    imported: query.get("imported") !== "0",
    metric: CHART_METRICS.includes(query.get("metric")) ? query.get("metric") : "sessions",
    interval: INTERVALS.includes(query.get("interval")) ? query.get("interval") : "",
    funnel: query.get("funnel") || "",
    model: MODELS.includes(query.get("model")) ? query.get("model") : "last",
    attributeBy: ATTRIBUTION_TABS.some(([name]) => name === query.get("by")) ? query.get("by") : "source",
    tabs: Object.fromEntries(REPORT_PANELS.map((panel) => [panel.id, Number(query.get(`tab.${panel.id}`)) || 0])
      .filter(([id, index]) => index > 0 && index < REPORT_PANELS.find((panel) => panel.id === id).tabs.length)),
  };
}

function writeUrl() {
  const query = new URLSearchParams();
  if (share && share.embed) query.set("embed", "1");
  if (view.project) query.set("project", view.project);
  if (view.period !== "30d") query.set("period", view.period);
  if (view.period === "custom") {
    if (view.from) query.set("from", view.from);
    if (view.to) query.set("to", view.to);
  }
  if (view.leadStatus) query.set("status", view.leadStatus);
  if (view.leadSource) query.set("source", view.leadSource);
  if (view.leadQuery) query.set("q", view.leadQuery);
  if (view.leadPage > 1) query.set("page", String(view.leadPage));
  for (const text of view.filters) query.append("filter", text);
  if (view.compare) query.set("compare", view.compare);
  if (!view.imported) query.set("imported", "0");
  if (view.metric !== "sessions") query.set("metric", view.metric);
  if (view.interval) query.set("interval", view.interval);
  if (view.funnel) query.set("funnel", view.funnel);
  if (view.model !== "last") query.set("model", view.model);
  if (view.attributeBy !== "source") query.set("by", view.attributeBy);
  for (const [id, index] of tabs) if (index) query.set(`tab.${id}`, String(index));
  const search = query.toString();
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

/** The analytics window and project, as query parameters. */
function windowParams() {
  const params = { tz: zone };
  if (view.project) params.project = view.project;
  if (view.period === "custom") {
    if (view.from) params.from = view.from;
    if (view.to) params.to = view.to;
  } else {
    params.period = view.period;
  }
  return params;
}

/** The window and the filters (and whether to add imported history): what every report panel asks with. */
function reportParams() {
  return { ...windowParams(), filter: view.filters, include_imported: view.imported ? undefined : "false" };
}

// ---- filters ----------------------------------------------------------------------------------

/** Add filters (a row was clicked) and redraw everything with them. */
function addFilters(texts) {
  const fresh = texts.filter((text) => !view.filters.includes(text));
  if (!fresh.length) return;
  view.filters = [...view.filters, ...fresh].slice(-MAX_FILTERS);
  view.leadPage = 1;
  changedFilters();
}

function removeFilter(index) {
  view.filters = view.filters.filter((_, i) => i !== index);
  view.leadPage = 1;
  changedFilters();
}

function changedFilters() {
  writeUrl();
  drawChips();
  loadAll();
}

/** One chip per filter; its button removes it. */
function drawChips() {
  const chips = $("chips");
  chips.hidden = view.filters.length === 0;
  fill(chips, view.filters.map((text, index) => h("span", { class: "chip", "data-filter": text },
    h("span", {}, filterLabel(text)),
    h("button", { type: "button", class: "chip-remove", "data-index": index, "aria-label": `Remove filter: ${filterLabel(text)}` }, "✕"))));
}

function showError(error) {
  $("load-error").hidden = false;
  $("load-error").textContent = `Could not load everything: ${error.message}`;
}

// ---- signing in -------------------------------------------------------------------------------

function showSignIn(message, error) {
  if (share) return shareStopped(error);
  epoch++;
  clearInterval(realtimeTimer);
  clearTimeout(leadsSearchTimer);
  $("board").hidden = true;
  $("filters").hidden = true;
  $("sign-in").hidden = false;
  $("key-error").hidden = !message;
  $("key-error").textContent = message || "";
  $("key").focus();
  $("key").select(); // what was typed stays, ready to be corrected
}

async function signIn(event) {
  event.preventDefault();
  const key = $("key").value.trim();
  if (!key) return;
  rememberKey(key);
  await start(); // the field is cleared once the key is accepted: a mistyped key stays to be fixed
}

// ---- loading ----------------------------------------------------------------------------------

async function start() {
  const started = ++epoch;
  $("sign-in").hidden = true;
  $("board").hidden = false;
  $("filters").hidden = false;
  syncControls();
  try {
    await loadProjects();
  } catch (error) {
    if (error instanceof KeyRefused) return showSignIn("That key was not accepted. Check it and try again.", error);
  }
  $("key").value = "";
  if (epoch !== started) return;
  await loadAll();
  if (epoch !== started) return; // signed out meanwhile: no timer for a page without a key
  clearInterval(realtimeTimer);
  realtimeTimer = setInterval(() => loadPanel("realtime", loadRealtime), REALTIME_MS);
}

function syncControls() {
  $("project").value = view.project;
  $("period").value = view.period;
  $("custom-range").hidden = view.period !== "custom";
  $("from").value = view.from;
  $("to").value = view.to;
  $("lead-status").value = view.leadStatus;
  $("lead-q").value = view.leadQuery;
  $("compare").value = view.compare;
  $("include-imported").checked = view.imported;
  $("chart-metric").value = view.metric;
  $("chart-interval").value = view.interval;
  $("attribution-model").value = view.model;
  drawChips();
}

/** The project picker: projects with traffic or leads that the key may see. */
async function loadProjects() {
  if (share) return; // a share link shows its one project: no picker
  const projects = await api("/analytics/projects");
  allProjects = projects.all_projects;
  const all = allProjects ? "All projects" : "All my projects";
  fill($("project"), [h("option", { value: "" }, all), ...projects.values.map((p) => h("option", { value: p }, p))]);
  if (view.project && !projects.values.includes(view.project)) $("project").append(h("option", { value: view.project }, view.project));
  $("project").value = view.project;
}

/** The leads' form filter: the forms of the chosen project. */
async function loadLeadSources(fresh) {
  const sources = await api("/analytics/leads/sources", view.project ? { project: view.project } : {});
  if (!fresh()) return;
  fill($("lead-source"), [h("option", { value: "" }, "Any"), ...sources.values.map((s) => h("option", { value: s }, s))]);
  if (view.leadSource && !sources.values.includes(view.leadSource)) $("lead-source").append(h("option", { value: view.leadSource }, view.leadSource));
  $("lead-source").value = view.leadSource;
}

/** Run a panel's loader with a `fresh()` test it checks before drawing; a failure shows in the
 * banner (until that panel loads again) instead of breaking the others. */
async function loadPanel(name, loader) {
  const ticket = (tickets.get(name) || 0) + 1;
  tickets.set(name, ticket);
  const calledIn = epoch;
  const fresh = () => tickets.get(name) === ticket && epoch === calledIn;
  try {
    await loader(fresh);
    if (fresh()) failures.delete(name);
  } catch (error) {
    if (!fresh()) return;
    if (error instanceof KeyRefused) return showSignIn("The key is no longer accepted (revoked?). Enter another.", error);
    failures.set(name, error.message);
  }
  const messages = [...new Set(failures.values())]; // six panels refused for one reason: said once
  $("load-error").hidden = messages.length === 0;
  $("load-error").textContent = messages.length ? `Could not load everything: ${messages.join("; ")}` : "";
}

const PANELS = {
  overview: loadOverview, daily: loadDaily, realtime: loadRealtime, engagement: loadEngagement,
  goals: loadGoals, funnel: loadFunnel,
  ...Object.fromEntries(REPORT_PANELS.map((panel) => [panel.id, (fresh) => loadReport(panel, fresh)])),
  anomalies: loadAnomalies, attribution: loadAttribution, won: loadWon, forms: loadForms,
  // A share link's viewers get counts only: no leads list, no lead pages, no storage figures
  // (the link's API answers none of them either).
  ...(share ? {} : { leadSources: loadLeadSources, leads: loadLeads, storage: loadStorage }),
};

async function loadAll() {
  document.body.classList.add("loading");
  await Promise.all(Object.entries(PANELS).map(([name, loader]) => loadPanel(name, loader)));
  document.body.classList.remove("loading");
  document.body.dataset.loaded = "true"; // for tests and screenshots: everything has been drawn once
}

// ---- panels -----------------------------------------------------------------------------------

const CARDS = [
  { key: "sessions", label: "Sessions", format: formatNumber },
  { key: "visitors", label: "Visitors", format: formatNumber },
  { key: "page_views", label: "Page views", format: formatNumber },
  { key: "average_engaged_ms", label: "Avg. engaged time", format: formatDuration },
  { key: "bounce_rate", label: "Bounce rate", format: formatPercent, lowerIsBetter: true },
  { key: "leads", label: "Leads", format: formatNumber },
];

function change(current, previous, lowerIsBetter) {
  const against = view.compare === "year" ? "against the same dates a year before" : "against the previous period";
  if (current == null || previous == null) return h("span", { class: "change" }, "");
  if (previous === 0) return h("span", { class: "change" }, current ? "new" : "no change");
  const ratio = (current - previous) / previous;
  if (Math.abs(ratio) < 0.005) return h("span", { class: "change" }, "no change");
  const better = lowerIsBetter ? ratio < 0 : ratio > 0;
  const sign = ratio > 0 ? "▲" : "▼";
  return h("span", { class: `change ${better ? "up" : "down"}`, title: against },
    `${sign} ${formatPercent(Math.abs(ratio))}`);
}

async function loadOverview(fresh) {
  const overview = await api("/analytics/overview", { ...reportParams(), compare: view.compare || undefined });
  if (!fresh()) return;
  const { current, previous } = overview;
  showImported(overview);
  fill($("cards"), CARDS.map((card) => h("div", { class: "card", "data-metric": card.key },
    h("span", { class: "label" }, card.label),
    h("strong", { class: "value" }, card.format(current[card.key])),
    change(current[card.key], previous[card.key], card.lowerIsBetter))));
  // "No sessions yet" means none in a year, not a quiet morning.
  let empty = current.sessions === 0 && previous.sessions === 0 && !view.filters.length;
  if (empty) {
    const year = await api("/analytics/overview", { period: "12mo", tz: zone, project: view.project || undefined });
    if (!fresh()) return;
    empty = year.current.sessions === 0 && year.previous.sessions === 0;
  }
  $("empty").hidden = !empty || Boolean(share); // the snippet is for the site's owner, not a link's viewers
  $("snippet").textContent = `<script src="${location.origin}/pulse.js" data-project="${view.project || "your-site"}" defer></script>`;
}

/** The toggle shows once the window holds imported days; the note says which, or why they are left out. */
function showImported(answer) {
  const note = $("imported-note");
  $("imported-toggle").hidden = answer.imported == null && view.imported;
  note.hidden = answer.imported == null;
  if (answer.imported == null) return;
  const range = answer.imported_range;
  const days = range.from === range.to ? range.from : `${range.from} to ${range.to}`;
  note.textContent = answer.imported === "included"
    ? `Includes imported data for ${days} (${answer.imported_note}).`
    : `Imported data for ${days} is not counted here: ${answer.imported_note.replace(/^imported data left out: /, "")}.`;
}

/** Whether a bucket starting at `start` (local ISO) holds imported days of `range`. */
function holdsImported(start, unit, range) {
  if (!range) return false;
  const day = start.slice(0, 10);
  if (unit === "day") return day >= range.from && day <= range.to;
  const end = new Date(`${day}T00:00:00Z`);
  if (unit === "week") end.setUTCDate(end.getUTCDate() + 6);
  else end.setUTCMonth(end.getUTCMonth() + 1, 0);
  return day <= range.to && end.toISOString().slice(0, 10) >= range.from;
}

function shortDate(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day)).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

/** "2026-01-31T14:00:00" (a bucket's local start) → "14:00". */
function shortHour(iso) {
  return iso.slice(11, 16);
}

async function loadDaily(fresh) {
  // By the hour for a day or two (the API's default then), by the day for longer windows, unless
  // an interval is picked; the picked metric, and the comparison as a dashed line.
  const metric = view.metric;
  const params = { ...reportParams(), metrics: metric === "sessions" ? "sessions,visitors" : metric };
  if (view.interval) params.interval = view.interval;
  if (view.compare) params.compare = view.compare;
  const series = await api("/analytics/timeseries", params);
  if (!fresh()) return;
  const unit = series.interval;
  const label = METRICS[metric].label;
  const format = metric === "conversion_rate" ? formatRate : metric === "avg_engaged_ms" ? formatDuration : formatNumber;
  const point = (bucket) => (unit === "hour" ? bucket.start.slice(0, 16).replace("T", " ") : bucket.start.slice(0, 10));
  $("daily-title").textContent = `${label} per ${unit}`;
  // Visitors are not additive across buckets (one person comes back on many days): no total for them.
  const additive = ["sessions", "pageviews", "leads"].includes(metric);
  const total = series.buckets.reduce((sum, bucket) => sum + (bucket[metric] || 0), 0);
  const imported = series.imported === "included" ? series.imported_range : null;
  barChart($("daily-chart"), series.buckets.map((bucket) => ({
    label: unit === "hour" ? shortHour(bucket.start) : shortDate(bucket.start.slice(0, 10)),
    value: bucket[metric] || 0,
    imported: holdsImported(bucket.start, unit, imported),
    title: metric === "sessions" ? `${point(bucket)} (${formatNumber(bucket.visitors)} visitors)` : point(bucket),
  })), {
    name: `${label} per ${unit}`,
    formatValue: format,
    summary: additive ? `${formatNumber(total)} ${label.toLowerCase()} in ${series.buckets.length} ${unit}s` : `${label} per ${unit}, ${series.buckets.length} ${unit}s`,
    comparison: series.comparison ? series.comparison.buckets.map((bucket) => ({ value: bucket[metric] || 0, title: point(bucket) })) : undefined,
  });
}

async function loadRealtime(fresh) {
  const live = await api("/analytics/realtime", { project: view.project || undefined, filter: view.filters });
  if (!fresh()) return;
  // Numbers change in place, so a refresh never blanks the panel.
  $("rt-sessions").textContent = formatNumber(live.active_sessions);
  $("rt-visitors").textContent = formatNumber(live.active_visitors);
  $("rt-events").textContent = formatNumber(live.events_last_minute);
  barChart($("rt-chart"), live.events_per_minute.map((minute) => ({
    label: formatTime(minute.minute), value: minute.events,
  })), { height: 90, xLabels: 3, focusable: false, name: "Events per minute, last 30 minutes", summary: "Events per minute, last 30 minutes" });
  const list = $("rt-pages");
  const rows = live.top_pages.slice(0, 5);
  while (list.children.length > rows.length) list.lastChild.remove();
  rows.forEach((page, index) => {
    const item = list.children[index] || list.appendChild(h("li", {}, h("span", { class: "path" }), h("span", { class: "num" })));
    item.firstChild.textContent = page.path;
    item.lastChild.textContent = formatNumber(page.views);
  });
  if (!rows.length && !list.dataset.empty) list.dataset.empty = "No page views in the last 5 minutes.";
}

async function loadEngagement(fresh) {
  const engagement = await api("/analytics/engagement", reportParams());
  if (!fresh()) return;
  barChart($("engagement-chart"), engagement.buckets.map((bucket) => ({
    label: bucket.range, value: bucket.sessions, title: `Score ${bucket.range}`,
  })), { height: 150, name: "Sessions by engagement score" });
  $("engagement-summary").textContent = engagement.scored_sessions
    ? `${formatNumber(engagement.scored_sessions)} scored sessions · mean ${engagement.mean.toFixed(1)} · median ${engagement.median}`
    : "No ended sessions in this period yet.";
}

/** Each goal's conversions, and their change against the comparison (the previous period by default). */
async function loadGoals(fresh) {
  const compare = view.compare || "previous";
  const answer = await api("/analytics/goals", { ...reportParams(), compare });
  if (!fresh()) return;
  const against = compare === "year" ? "against the same dates a year before" : "against the previous period";
  drawGoals($("goals"), answer, against, addFilters);
}

/** The chosen saved funnel (the first, if none is chosen), with the dashboard's filters. */
async function loadFunnel(fresh) {
  const saved = await api("/analytics/funnels", view.project ? { project: view.project } : {});
  if (!fresh()) return;
  const chosen = fillFunnelPicker($("funnel-name"), saved.funnels, view.funnel);
  if (!chosen) return fill($("funnel"), [funnelHint()]);
  const report = await api("/analytics/funnel", { ...reportParams(), name: chosen });
  if (!fresh()) return;
  drawFunnel($("funnel"), report);
}

/** Whether the dashboard is filtered by a goal: session panels then show what drives it. */
function goalFiltered() {
  return view.filters.some((text) => text.startsWith("goal=="));
}

/** A report panel: the breakdown of its chosen tab, ranked by the tab's metric. */
async function loadReport(panel, fresh) {
  const index = tabs.get(panel.id) || 0;
  const tab = panel.tabs[index];
  const sessionExtra = goalFiltered() ? ["visitors", "conversions", "goal_conversion_rate"] : ["visitors", "leads", "conversion_rate"];
  const extra = tab.metric === "sessions" ? sessionExtra : ["visitors"];
  const metrics = [tab.metric, ...extra.filter((m) => m !== tab.metric)];
  const answer = await api("/analytics/breakdown", { ...reportParams(), dimension: tab.dimension, metrics: metrics.join(","), limit: 10 });
  if (!fresh()) return;
  selectTab(panel, index);
  drawRanked($(panel.id), tab, answer.rows, view.filters.length ? "Nothing matches the filters." : "Nothing in this period.");
}

async function loadAnomalies(fresh) {
  const report = await api("/analytics/anomalies", view.project ? { project: view.project } : {});
  if (!fresh()) return;
  $("anomaly-window").textContent = `(last ${report.window_hours} h)`;
  fill($("anomalies"), report.findings.length
    ? report.findings.map((finding) => h("li", { class: `finding ${finding.severity}` },
      h("span", { class: "badge" }, finding.severity), " ", finding.message))
    : [h("li", { class: "muted" }, `Nothing unusual in the last ${report.window_hours} hours.`)]);
}

async function loadAttribution(fresh) {
  drawAttributionTabs($("attribution-tabs"), view.attributeBy, (name) => {
    view.attributeBy = name;
    writeUrl();
    loadPanel("attribution", loadAttribution);
  });
  const params = { ...reportParams(), model: view.model, dimension: view.attributeBy, limit: 20 };
  const report = await api("/analytics/attribution", params);
  if (fresh()) drawAttribution($("attribution"), report);
}

async function loadWon(fresh) {
  const params = { ...reportParams(), model: view.model, dimension: "utm_campaign", metrics: "won,revenue,leads",
    order: "won:desc", limit: 10 };
  const report = await api("/analytics/attribution", params);
  if (fresh()) drawWon($("won"), report);
}

async function loadForms(fresh) {
  const report = await api("/analytics/forms", { ...reportParams(), limit: 10 });
  if (fresh()) drawForms($("forms"), report);
}

async function loadLeads(fresh) {
  // The same window as the cards: the leads received in the period.
  const params = { ...reportParams(), page: view.leadPage, limit: LEADS_PER_PAGE };
  if (view.leadStatus) params.status = view.leadStatus;
  if (view.leadSource) params.source = view.leadSource;
  if (view.leadQuery) params.q = view.leadQuery;
  const list = await api("/analytics/leads", params);
  if (!fresh()) return;
  const body = $("leads").tBodies[0];
  fill(body, list.leads.length
    ? list.leads.map((lead) => h("tr", { "data-lead": lead.lead_id },
      h("td", {}, new Date(lead.created_at).toLocaleString()),
      h("td", {}, h("button", { type: "button", class: "link", "data-lead": lead.lead_id }, lead.name || "(no name)")),
      h("td", {}, lead.email || lead.phone || ""),
      h("td", {}, lead.source || ""),
      h("td", { "data-touch": "first" }, touchLabel(lead.first_touch)),
      h("td", { "data-touch": "last" }, touchLabel(lead.last_touch)),
      h("td", { "data-stage": lead.stage || "" }, lead.stage || ""),
      h("td", {}, h("span", { class: `status ${lead.status}` }, lead.status))))
    : [h("tr", {}, h("td", { colspan: 8, class: "muted" }, "No leads match."))]);
  const pages = Math.max(1, Math.ceil(list.total / LEADS_PER_PAGE));
  $("leads-page").textContent = `Page ${list.page} of ${pages} · ${formatNumber(list.total)} leads in this period`;
  $("leads-prev").disabled = list.page <= 1;
  $("leads-next").disabled = list.page >= pages;
}

async function showLead(leadId, fresh) {
  const detail = await api(`/analytics/leads/${encodeURIComponent(leadId)}`);
  if (!fresh()) return;
  const lead = detail.lead;
  $("lead-title").textContent = lead.name || lead.email || "Lead";
  const pairs = [
    ["Received", new Date(lead.created_at).toLocaleString()], ["Status", lead.status], ["Email", lead.email],
    ["Phone", lead.phone], ["Company", lead.company], ["Project", lead.project], ["Form", lead.source],
    ["Came from", lead.traffic_source], ["Page", detail.page_url], ["Message", detail.message],
    ["CRM id", lead.crm_lead_id], ["Spam because", detail.spam_reason], ...otherFields(detail.fields),
  ].filter(([, value]) => value);
  fill($("lead-fields"), pairs.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, String(value))]));
  const attribution = attributionPairs(detail).filter(([, value]) => value);
  fill($("lead-attribution"), attribution.length
    ? attribution.flatMap(([name, value]) => [h("dt", {}, name), h("dd", { "data-pair": name }, String(value))])
    : [h("dd", { class: "muted" }, "Captured before attribution was kept.")]);
  const roles = touchRoles(detail);
  fill($("lead-deliveries"), detail.deliveries.length
    ? detail.deliveries.map((d) => h("li", { class: `delivery ${d.status}` },
      `${d.target}: ${d.status} after ${d.attempts} attempt${d.attempts === 1 ? "" : "s"}`
      + (d.last_status ? ` (last answer HTTP ${d.last_status})` : "") + (d.last_error ? ` — ${d.last_error}` : "")))
    : [h("li", { class: "muted" }, "Not forwarded (no CRM webhook, or spam).")]);
  fill($("lead-timeline"), detail.timeline.length
    ? detail.timeline.map((session) => h("li", { "data-role": roles.get(session.session_id) || "" },
      h("p", { class: "session-head" }, `${new Date(session.started_at).toLocaleString()} · ${session.source}`
        + ` · ${countryName(session.country)} · ${session.device || "?"} · ${session.browser || "?"}`
        + (session.engagement_score != null ? ` · score ${session.engagement_score}` : ""),
        roles.has(session.session_id) ? h("span", { class: "badge" }, roles.get(session.session_id)) : null),
      h("ul", { class: "events" }, ...session.events.map((event) => h("li", {},
        h("span", { class: "time" }, formatTime(event.at)), " ",
        h("span", { class: `type ${event.type}` }, event.type), " ",
        event.path || "", event.name ? ` “${event.name}”` : "", eventDetail(event))))))
    : [h("li", { class: "muted" }, "No visit is linked to this lead.")]);
  const dialog = $("lead-detail");
  if (!dialog.open) dialog.showModal();
}

/** The form's other fields as [name, value] rows (they arrive as JSON text); text as it came. */
function otherFields(fields) {
  let parsed = null;
  try {
    parsed = fields ? JSON.parse(fields) : null;
  } catch {
    return [["Other fields", fields]];
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return fields ? [["Other fields", fields]] : [];
  return Object.entries(parsed).map(([name, value]) => [name, typeof value === "object" && value !== null ? JSON.stringify(value) : value]);
}

/** What an event's props add for a person: how deep a scroll went, how long someone was engaged. */
function eventDetail(event) {
  let props = null;
  try {
    props = event.props ? JSON.parse(event.props) : null;
  } catch {
    return "";
  }
  if (!props) return "";
  if (typeof props.depth === "number") return ` · ${props.depth}%`;
  if (typeof props.engaged_ms === "number") return ` · ${formatDuration(props.engaged_ms)}`;
  return "";
}

async function loadStorage(fresh) {
  if (!allProjects) {
    fill($("storage"), [h("p", { class: "muted" }, "Storage covers every project; this key is limited to some.")]);
    return;
  }
  try {
    const storage = await api("/analytics/storage");
    if (!fresh()) return;
    const rows = [
      ["Database file", `${formatBytes(storage.database_bytes)} (${storage.database_path})`],
      ["Write-ahead log", formatBytes(storage.wal_bytes)],
      ...storage.tables.map((table) => [`${table.table}`, `${formatNumber(table.rows)} rows · ~${formatBytes(table.estimated_bytes)}`]),
      ["Oldest event", storage.oldest_event_ms ? new Date(storage.oldest_event_ms).toLocaleString() : "–"],
      ["Newest event", storage.newest_event_ms ? new Date(storage.newest_event_ms).toLocaleString() : "–"],
    ];
    if (storage.archive_bytes != null) rows.push(["Parquet archive", formatBytes(storage.archive_bytes)]);
    fill($("storage"), [h("dl", { class: "pairs" }, ...rows.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, value)]))]);
  } catch (error) {
    if (error.status !== 403) throw error;
    fill($("storage"), [h("p", { class: "muted" }, "Storage covers every project; this key is limited to some.")]);
  }
}

function formatBytes(bytes) {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

// ---- controls ---------------------------------------------------------------------------------

function onFilterChange() {
  view.project = $("project").value;
  view.period = $("period").value;
  view.compare = $("compare").value;
  view.imported = $("include-imported").checked;
  view.from = $("from").value;
  view.to = $("to").value;
  view.leadPage = 1;
  $("custom-range").hidden = view.period !== "custom";
  writeUrl();
  const reversed = view.period === "custom" && view.from && view.to && view.from > view.to;
  $("range-error").hidden = !reversed;
  $("range-error").textContent = reversed ? "The start date is after the end date." : "";
  // The numbers on screen are for another window: hidden until a valid one is loaded.
  $("board").classList.toggle("stale", Boolean(reversed));
  if (reversed || (view.period === "custom" && !(view.from && view.to))) return; // wait for both dates
  loadAll();
}

function onLeadFilterChange() {
  view.leadStatus = $("lead-status").value;
  view.leadSource = $("lead-source").value;
  view.leadQuery = $("lead-q").value.trim();
  view.leadPage = 1;
  writeUrl();
  loadPanel("leads", loadLeads);
}

function wire() {
  $("key-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => {
    forgetKey();
    location.reload(); // a clean page: nothing of the old key's data stays behind
  });
  for (const id of ["project", "period", "compare", "include-imported", "from", "to"]) $(id).addEventListener("change", onFilterChange);
  for (const id of ["chart-metric", "chart-interval"]) {
    $(id).addEventListener("change", () => {
      view.metric = $("chart-metric").value;
      view.interval = $("chart-interval").value;
      writeUrl();
      loadPanel("daily", loadDaily);
    });
  }
  $("chips").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-index]");
    if (button) removeFilter(Number(button.dataset.index));
  });
  buildReportPanels($("anomalies-panel"), {
    tab: (panel, index) => {
      tabs.set(panel.id, index);
      writeUrl();
      loadPanel(panel.id, (fresh) => loadReport(panel, fresh));
    },
    row: (tab, row, filter) => {
      if (tab.properties) openProperties({ event: row.value, params: reportParams(), onFilter: addFilters, onError: showError });
      else addFilters([filter]); // the row's own filter text (panels.js)
    },
    details: (panel) => {
      const tab = panel.tabs[tabs.get(panel.id) || 0];
      openDetails({ dimension: tab.dimension, params: reportParams(), onFilter: addFilters, onError: showError });
    },
  });
  wireDetails();
  $("attribution-model").addEventListener("change", () => {
    view.model = $("attribution-model").value;
    writeUrl();
    loadPanel("attribution", loadAttribution);
    loadPanel("won", loadWon);
  });
  $("funnel-name").addEventListener("change", () => {
    view.funnel = $("funnel-name").value;
    writeUrl();
    loadPanel("funnel", loadFunnel);
  });
  $("lead-status").addEventListener("change", onLeadFilterChange);
  $("lead-source").addEventListener("change", onLeadFilterChange);
  $("lead-q").addEventListener("input", () => {
    clearTimeout(leadsSearchTimer);
    leadsSearchTimer = setTimeout(onLeadFilterChange, 300);
  });
  $("lead-filters").addEventListener("submit", (event) => { event.preventDefault(); onLeadFilterChange(); });
  $("leads-prev").addEventListener("click", () => { view.leadPage--; writeUrl(); loadPanel("leads", loadLeads); });
  $("leads-next").addEventListener("click", () => { view.leadPage++; writeUrl(); loadPanel("leads", loadLeads); });
  $("leads").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-lead]");
    if (button) loadPanel("lead", (fresh) => showLead(button.dataset.lead, fresh));
  });
}

// ---- share links ------------------------------------------------------------------------------

/** A share link's page: the link's project only, read-only, without the key's controls. */
function setUpShare() {
  view.project = ""; // the link's API counts its own project whatever the URL says
  document.body.classList.add("share");
  document.body.classList.toggle("embed", share.embed);
  document.querySelector(".topbar h1").textContent = share.project;
  for (const id of ["sign-in", "sign-out", "leads-panel", "lead-detail"]) $(id).hidden = true;
  $("project").closest("label").hidden = true;
  $("storage").closest("section").hidden = true;
}

/** The link stopped working: its password is asked again (the server's form), or it is gone. */
function shareStopped(error) {
  epoch++;
  clearInterval(realtimeTimer);
  if (!(error && error.gone)) {
    location.reload(); // the server answers with the password form
    return;
  }
  $("board").hidden = true;
  $("filters").hidden = true;
  document.querySelector("main").append(h("section", { class: "panel sign-in", id: "share-gone" },
    h("h2", {}, "This link does not work"),
    h("p", {}, "It may have been revoked or have expired. Ask whoever sent it for a new one.")));
}

wire();
if (share) setUpShare();
if (hasKey()) start();
else showSignIn();

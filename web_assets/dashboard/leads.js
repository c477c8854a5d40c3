/** The Leads section: which values bring leads (by attribution model), won deals and revenue by
 * campaign, each form's funnel, and a lead's touches and stages. Everything is drawn as text. */

import { h, fill, formatDuration, formatNumber } from "./view.js";
import { formatRate } from "./panels.js";

export const MODELS = ["first", "last", "linear"];
// The attribution report's dimensions, as tabs (name, label).
export const ATTRIBUTION_TABS = [
  ["source", "Source"], ["utm_campaign", "Campaign"], ["utm_medium", "Medium"], ["utm_source", "UTM source"],
  ["landing_page", "Landing page"], ["referrer", "Referrer"], ["country", "Country"], ["device", "Device"],
];

/** Shares of a lead (linear credit) with up to two decimals; whole leads as whole numbers. */
export function formatLeads(value) {
  if (value == null) return "–";
  return Number.isInteger(value) ? formatNumber(value) : Number(value).toLocaleString(undefined, { maximumFractionDigits: 2 });
}

/** [{currency, amount}] → "1,200.50 EUR · 300 USD" (currencies are never converted). */
export function formatRevenue(revenue) {
  if (!revenue || !revenue.length) return "–";
  return revenue.map(({ currency, amount }) =>
    `${Number(amount).toLocaleString(undefined, { maximumFractionDigits: 2 })} ${currency}`).join(" · ");
}

function valueLabel(value) {
  return value == null || value === "" ? "(none)" : String(value);
}

/** The dimension tabs; `onPick(name)` when one is chosen. */
export function drawAttributionTabs(container, chosen, onPick) {
  fill(container, ATTRIBUTION_TABS.map(([name, label]) => {
    const tab = h("button", { type: "button", class: "tab", role: "tab", "aria-selected": String(name === chosen), "data-dimension": name }, label);
    tab.addEventListener("click", () => onPick(name));
    return tab;
  }));
}

/** The attribution table: one row per value with leads, outcomes, rates and lead quality. */
export function drawAttribution(table, report) {
  const body = table.tBodies[0];
  if (!report.rows.length) {
    return fill(body, [h("tr", {}, h("td", { colspan: 11, class: "muted" }, "No leads in this period."))]);
  }
  fill(body, report.rows.map((row) => h("tr", { "data-value": valueLabel(row.value) },
    h("td", { class: "name" }, valueLabel(row.value)),
    h("td", { class: "num", "data-metric": "leads" }, formatLeads(row.leads)),
    h("td", { class: "num" }, formatLeads(row.qualified)),
    h("td", { class: "num", "data-metric": "won" }, formatLeads(row.won)),
    h("td", { class: "num", "data-metric": "revenue" }, formatRevenue(row.revenue)),
    h("td", { class: "num" }, formatRate(row.conversion_rate)),
    h("td", { class: "num" }, formatDuration(row.median_time_to_convert_ms)),
    h("td", { class: "num" }, row.avg_touches == null ? "–" : row.avg_touches.toFixed(1)),
    h("td", { class: "num" }, formatRate(row.spam_share)),
    h("td", { class: "num" }, formatRate(row.hosting_share)),
    h("td", { class: "num" }, formatRate(row.low_engagement_share)))));
}

/** Won deals and revenue by campaign, the campaigns that won most first. */
export function drawWon(list, report) {
  const rows = report.rows.filter((row) => row.won > 0);
  fill(list, rows.length
    ? rows.map((row) => h("li", { "data-campaign": valueLabel(row.value) },
      h("span", { class: "name" }, valueLabel(row.value)), " ",
      h("span", { class: "num" }, `${formatLeads(row.won)} won · ${formatRevenue(row.revenue)}`)))
    : [h("li", { class: "muted" }, "No won deals reported by the CRM in this period.")]);
}

/** Each form as four bars (seen, started, sent, leads), each as wide as its share of the views. */
export function drawForms(container, report) {
  if (!report.rows.length) {
    return fill(container, [h("p", { class: "muted" }, "No form was seen, started or sent in this period.")]);
  }
  fill(container, report.rows.map((form) => {
    const top = Math.max(form.views, form.starts, form.submits, form.leads, 1);
    const bar = (label, count, rate) => {
      const share = h("span", { class: "share" });
      share.style.width = `${(100 * count) / top}%`;
      return h("li", { class: "step" }, h("span", { class: "bar" }, share), h("span", { class: "step-name" }, label),
        h("span", { class: "num" }, `${formatNumber(count)}${rate === undefined ? "" : ` · ${formatRate(rate)}`}`));
    };
    return h("div", { class: "form-funnel", "data-form": valueLabel(form.value) },
      h("h3", {}, valueLabel(form.value), " ", h("span", { class: "muted" }, `${formatNumber(form.spam)} spam`)),
      h("ol", { class: "funnel" },
        bar("Seen", form.views), bar("Started", form.starts, form.start_rate),
        bar("Sent", form.submits, form.submit_rate), bar("Leads", form.leads, form.lead_rate)));
  }));
}

/** A touch in a table cell: source, and campaign when there is one. */
export function touchLabel(touch) {
  if (!touch) return "";
  return touch.utm_campaign ? `${touch.source} (${touch.utm_campaign})` : touch.source;
}

/** A touch in the lead's page: where from, landing page, when, ad click ids. */
function touchDetails(touch) {
  const origin = [touch.source, touch.utm_medium, touch.utm_campaign].filter(Boolean).join(" / ");
  const clicks = Object.entries(touch.click_ids || {}).map(([key, value]) => `${key}=${value}`).join(", ");
  return `${origin} → ${touch.landing_page || "?"}, ${new Date(touch.at).toLocaleString()}${clicks ? ` · ${clicks}` : ""}`;
}

/** The lead page's attribution pairs: first and last touch, touches, time to convert, stages. */
export function attributionPairs(detail) {
  const lead = detail.lead;
  const stages = detail.stages.map((entry) => `${entry.stage} (${new Date(entry.at).toLocaleDateString()})`).join(" → ");
  const value = lead.stage_value == null ? null : formatRevenue([{ currency: lead.stage_currency, amount: lead.stage_value }]);
  const converting = detail.converting_session;
  return [
    ["First touch", lead.first_touch && touchDetails(lead.first_touch)],
    ["Last touch", lead.last_touch && touchDetails(lead.last_touch)],
    ["Touches", lead.touches == null ? null : String(lead.touches)],
    ["Time to convert", detail.time_to_convert_ms == null ? null : formatDuration(detail.time_to_convert_ms)],
    ["Converting visit", converting && `landed on ${converting.landing_page || "?"}, ${converting.page_views} pages, `
      + `engaged ${formatDuration(converting.engaged_ms)}, score ${converting.engagement_score}`
      + (detail.from_hosting ? ", from a hosting or VPN network" : "")],
    ["CRM stage", lead.stage && (value ? `${lead.stage}, ${value}` : lead.stage)],
    ["Stage history", stages],
  ];
}

/** Which of the visitor's sessions were touches of the lead, by session id → "first", "last", "touch". */
export function touchRoles(detail) {
  const roles = new Map();
  for (const touch of detail.touch_list) if (touch.session_id) roles.set(touch.session_id, "touch");
  const lead = detail.lead;
  if (lead.last_touch && lead.last_touch.session_id) roles.set(lead.last_touch.session_id, "last touch");
  if (lead.first_touch && lead.first_touch.session_id) {
    const both = lead.last_touch && lead.first_touch.session_id === lead.last_touch.session_id;
    roles.set(lead.first_touch.session_id, both ? "first and last touch" : "first touch");
  }
  return roles;
}

/** The reports' filters as the dashboard shows them: `country==DE` in the URL and the API, "Country is Germany" on a chip. */

import { countryName } from "./view.js";

export const DIMENSION_LABELS = {
  source: "Source", referrer: "Referrer", utm_source: "UTM source", utm_medium: "UTM medium",
  utm_campaign: "UTM campaign", utm_term: "UTM term", utm_content: "UTM content", entry_page: "Entry page",
  exit_page: "Exit page", country: "Country", browser: "Browser", os: "Operating system", device: "Device",
  screen: "Screen", language: "Language", project: "Project", page: "Page", event: "Event",
  outbound: "Outbound link", download: "Download", goal: "Goal",
};
const OPERATORS = [["==", "is"], ["!=", "is not"], ["!~", "does not contain"], ["~", "contains"]]; // longest first
const FILTER = /^([A-Za-z_]+(?::[^=!~]+)?)(==|!=|!~|~)(.*)$/s;

/** The filter parameter that keeps rows whose `dimension` is `value` (a bar in the value is escaped). */
export function isFilter(dimension, value) {
  return `${dimension}==${String(value).replaceAll("|", "\\|")}`;
}

/** `dimension~text`: rows whose value contains the text (the details view's search). */
export function containsFilter(dimension, text) {
  return `${dimension}~${text.replaceAll("|", "\\|")}`;
}

/** "country==DE|FR" → {dimension, operator, values}; null for text that is not a filter. */
export function parseFilter(text) {
  const match = FILTER.exec(text);
  if (!match) return null;
  const values = [];
  let current = "";
  for (let i = 0; i < match[3].length; i++) {
    const char = match[3][i];
    if (char === "\\" && match[3][i + 1] === "|") { current += "|"; i++; }
    else if (char === "|") { values.push(current); current = ""; }
    else current += char;
  }
  values.push(current);
  return { dimension: match[1], operator: match[2], values };
}

export function dimensionLabel(dimension) {
  if (dimension.startsWith("prop:")) return `Property ${dimension.slice(5)}`;
  return DIMENSION_LABELS[dimension] || dimension;
}

/** How a value of `dimension` reads for people (country codes become names). */
export function valueLabel(dimension, value) {
  if (value === null || value === undefined) return "(none)";
  return dimension === "country" ? countryName(value) : String(value);
}

/** "Country is Germany or France" for `country==DE|FR`. */
export function filterLabel(text) {
  const filter = parseFilter(text);
  if (!filter) return text;
  const verb = OPERATORS.find(([operator]) => operator === filter.operator)[1];
  const values = filter.values.map((value) => valueLabel(filter.dimension, value)).join(" or ");
  return `${dimensionLabel(filter.dimension)} ${verb} ${values}`;
}

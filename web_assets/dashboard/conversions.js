/** The Goals and Funnels panels: how each goal converts, and how many visitors each funnel step keeps. */

import { h, fill, formatDuration, formatNumber } from "./view.js";
import { isFilter } from "./filters.js";
import { formatRate } from "./panels.js";

/** A goal's change against the earlier window, as the cards show it. */
function goalChange(goal, against) {
  const before = goal.comparison;
  if (!before) return h("span", { class: "change" }, "");
  if (before.visitors === 0) return h("span", { class: "change" }, goal.visitors ? "new" : "no change");
  const ratio = (goal.visitors - before.visitors) / before.visitors;
  if (Math.abs(ratio) < 0.005) return h("span", { class: "change" }, "no change");
  return h("span", { class: `change ${ratio > 0 ? "up" : "down"}`, title: against },
    `${ratio > 0 ? "▲" : "▼"} ${formatRate(Math.abs(ratio) * 100)}`);
}

/** One row per goal: visitors who converted, conversions, conversion rate and its change; a row is a
 * button that filters the dashboard by that goal (`onFilter(text)`). */
export function drawGoals(table, answer, against, onFilter) {
  const body = table.tBodies[0];
  if (!answer.goals.length) {
    return fill(body, [h("tr", {}, h("td", { colspan: 4, class: "muted" },
      "No goals yet. Add one where the server runs: pulsegate goals add Signup --event Signup"))]);
  }
  fill(body, answer.goals.map((goal) => {
    const name = h("button", { type: "button", class: "link", "data-goal": goal.name,
      title: `${goal.description} · click to see what drives it` }, goal.name);
    name.addEventListener("click", () => onFilter([isFilter("goal", goal.name)]));
    return h("tr", { "data-goal-row": goal.name },
      h("td", { class: "name" }, name),
      h("td", { class: "num" }, formatNumber(goal.visitors)),
      h("td", { class: "num" }, formatNumber(goal.conversions)),
      h("td", { class: "num" }, formatRate(goal.conversion_rate), " ", goalChange(goal, against)));
  }));
}

/** The saved funnels as the picker's options, keeping `chosen` when it is still there. */
export function fillFunnelPicker(select, funnels, chosen) {
  fill(select, funnels.length
    ? funnels.map((funnel) => h("option", { value: funnel.name }, funnel.name))
    : [h("option", { value: "" }, "No saved funnels")]);
  select.disabled = funnels.length === 0;
  select.value = funnels.some((funnel) => funnel.name === chosen) ? chosen : (funnels[0] ? funnels[0].name : "");
  return select.value;
}

/** A funnel's window as it was written: 604800000 → "7 days". */
function formatWindow(ms) {
  for (const [unit, size] of [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000]]) {
    if (ms % size === 0) return `${ms / size} ${unit}${ms === size ? "" : "s"}`;
  }
  return formatDuration(ms);
}

/** What the panel says while no funnel is saved. */
export function funnelHint() {
  return h("p", { class: "muted" }, "No saved funnels yet. Save one where the server runs: ",
    h("code", {}, 'pulsegate funnels add Demo --step page:/pricing --step "event:Book demo" --step lead'));
}

/** Each step as a bar as wide as its share of the first step, and between steps the drop-off. */
export function drawFunnel(container, report) {
  const rows = [];
  report.steps.forEach((step, index) => {
    if (index) {
      const lost = step.dropoff;
      const kept = step.step_conversion_rate;
      const time = step.median_ms_from_previous == null ? "" : ` · median ${formatDuration(step.median_ms_from_previous)} later`;
      rows.push(h("li", { class: "dropoff", "data-dropoff": index },
        `▼ ${formatRate(kept)} kept, ${formatNumber(lost)} dropped off${time}`));
    }
    const bar = h("span", { class: "share" });
    bar.style.width = `${report.steps[0].visitors ? (100 * step.visitors) / report.steps[0].visitors : 0}%`;
    rows.push(h("li", { class: "step", "data-step": index },
      h("span", { class: "bar" }, bar),
      h("span", { class: "step-name" }, `${index + 1}. ${step.label}`),
      h("span", { class: "num" }, `${formatNumber(step.visitors)} visitors · ${formatRate(step.conversion_rate)}`)));
  });
  const where = report.within === "visitor" ? `across a visitor's sessions within ${formatWindow(report.window_ms)}` : "in one session";
  fill(container, [
    h("p", { class: "muted" }, `Steps in order, ${where}. ${formatRate(report.conversion_rate)} of those who took the first step took the last.`),
    h("ol", { class: "funnel" }, ...rows),
  ]);
}

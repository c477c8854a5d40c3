/** Small SVG bar charts for the dashboard, with axis labels and a hover/focus readout. No dependencies. */

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(name, attrs, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A round, readable top for the y axis: 1, 2, 2.5 or 5 times a power of ten. */
export function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

/**
 * Draw bars for `points` ([{label, value, title}]) into `container`, replacing what was there.
 * `options`: {height, formatValue, xLabels (how many labels under the axis), name (for screen readers),
 * summary (the readout when nothing is hovered), focusable (false: bars take no keyboard focus, for
 * charts that are redrawn on a timer), comparison ([{value, title}] paired with the bars by position:
 * drawn as a dashed line, the earlier period the bars are compared with)}.
 * Drawn at the container's own width, and again whenever that width changes.
 */
export function barChart(container, points, options = {}) {
  container.pulsegateChart = { points, options };
  if (!container.pulsegateObserved && "ResizeObserver" in window) {
    container.pulsegateObserved = true;
    let lastWidth = 0;
    new ResizeObserver(() => {
      if (container.clientWidth !== lastWidth && container.pulsegateChart) {
        lastWidth = container.clientWidth;
        draw(container);
      }
    }).observe(container);
  }
  draw(container);
}

function draw(container) {
  const { points, options } = container.pulsegateChart;
  const format = options.formatValue || ((value) => value.toLocaleString());
  const width = Math.max(container.clientWidth, 240);
  const height = options.height || 180;
  const left = 44, right = 8, top = 10, bottom = 24;
  const plotWidth = width - left - right, plotHeight = height - top - bottom;
  const earlier = options.comparison || [];
  const top_ = niceMax(Math.max(0, ...points.map((p) => p.value), ...earlier.map((p) => p.value || 0)));
  const chart = svg("svg", {
    width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "bar-chart",
    "aria-label": options.name || "chart",
  });
  // Grid lines and y labels at 0, half and the top.
  for (const fraction of [0, 0.5, 1]) {
    const y = top + plotHeight * (1 - fraction);
    chart.append(svg("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    chart.append(svg("text", { x: left - 6, y: y + 4, class: "axis", "text-anchor": "end" }, format(top_ * fraction)));
  }
  const slot = plotWidth / Math.max(points.length, 1);
  const gap = slot > 6 ? Math.min(slot * 0.2, 6) : 0;
  const readout = container.querySelector(".readout") || document.createElement("p");
  readout.className = "readout";
  readout.setAttribute("aria-live", "polite");
  // As many x labels as fit (about 6 px a character at 11 px, plus a gap), never more than asked for.
  const labelWidth = 6 * Math.max(...points.map((p) => String(p.label).length), 1) + 8;
  const fitting = Math.max(2, Math.floor(plotWidth / labelWidth));
  const labelEvery = Math.max(1, Math.ceil(points.length / Math.min(options.xLabels || 6, fitting)));
  let lastLabelX = -Infinity;
  points.forEach((point, index) => {
    const barHeight = top_ ? (plotHeight * point.value) / top_ : 0;
    const x = left + index * slot + gap / 2;
    const before = earlier[index];
    const text = `${point.title || point.label}: ${format(point.value)}${point.imported ? " (with imported data)" : ""}`
      + (before && before.value != null ? ` (${before.title}: ${format(before.value)})` : "");
    const bar = svg("rect", {
      x, y: top + plotHeight - barHeight, width: Math.max(slot - gap, 1), height: Math.max(barHeight, point.value ? 1 : 0),
      class: point.imported ? "bar imported" : "bar", tabindex: options.focusable !== false && points.length <= 40 ? 0 : -1,
    });
    bar.append(svg("title", {}, text));
    // A hit area the full height of the slot, so small bars are easy to hover.
    const hit = svg("rect", { x: left + index * slot, y: top, width: slot, height: plotHeight, class: "hit" });
    const show = () => {
      readout.textContent = text;
      chart.querySelectorAll(".bar.active").forEach((node) => node.classList.remove("active"));
      bar.classList.add("active");
    };
    hit.addEventListener("pointerenter", show);
    bar.addEventListener("focus", show);
    chart.append(bar, hit);
    const isLast = index === points.length - 1 && points.length > 1;
    const labelX = isLast ? width - right : x + (slot - gap) / 2;
    // The last point is labelled too, unless that would crowd the label before it.
    // The last label is right-aligned, so it needs more room after the one before it.
    const room = isLast ? 1.5 * labelWidth : labelWidth;
    if ((index % labelEvery === 0 || isLast) && labelX - lastLabelX >= room) {
      chart.append(svg("text", {
        x: labelX, y: height - 6, class: "axis", "text-anchor": isLast ? "end" : "middle",
      }, point.label));
      lastLabelX = labelX;
    }
  });
  if (earlier.length) {
    // The comparison as a dashed line through the middle of each bar's slot.
    const corners = earlier.slice(0, points.length).map((point, index) => {
      const y = top + plotHeight - (top_ ? (plotHeight * (point.value || 0)) / top_ : 0);
      return `${(left + index * slot + slot / 2).toFixed(1)},${y.toFixed(1)}`;
    });
    chart.append(svg("polyline", { points: corners.join(" "), class: "comparison" }));
  }
  chart.addEventListener("pointerleave", () => {
    readout.textContent = options.summary || "";
    chart.querySelectorAll(".bar.active").forEach((node) => node.classList.remove("active"));
  });
  readout.textContent = options.summary || ""; // a new drawing: the old hover text may name a gone bar
  container.replaceChildren(chart, readout);
}

// Small SVG charts, drawn by hand: no charting library needed for two bar series.

import { s } from "../dom.js";

/** Paired bars per hour (created vs resolved), with an accessible title and summary. */
export function hourlyBars(created, resolved, { width = 560, height = 140, label = "" } = {}) {
  const max = Math.max(1, ...created, ...resolved);
  const pad = { left: 24, right: 4, top: 8, bottom: 18 };
  const slot = (width - pad.left - pad.right) / 24;
  const bar = Math.max(1, slot / 2 - 1);
  const scale = (v) => ((height - pad.top - pad.bottom) * v) / max;
  const nodes = [];
  for (let hour = 0; hour < 24; hour += 1) {
    const x = pad.left + hour * slot;
    for (const [i, series, cls] of [
      [0, created, "bar-created"],
      [1, resolved, "bar-resolved"],
    ]) {
      const value = series[hour] || 0;
      const hgt = scale(value);
      nodes.push(
        s(
          "rect",
          { class: cls, x: x + i * (bar + 1), y: height - pad.bottom - hgt, width: bar, height: hgt },
          s("title", {}, `${String(hour).padStart(2, "0")}:00 — ${value} ${i ? "resolved" : "created"}`),
        ),
      );
    }
    if (hour % 3 === 0) {
      nodes.push(s("text", { class: "axis", x: x, y: height - 4 }, String(hour).padStart(2, "0")));
    }
  }
  nodes.push(s("text", { class: "axis", x: 0, y: pad.top + 8 }, String(max)));
  nodes.push(s("line", { class: "baseline", x1: pad.left, x2: width - pad.right, y1: height - pad.bottom, y2: height - pad.bottom }));
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": label, class: "chart" },
    nodes,
  );
}

/** One horizontal bar per entry: [[label, value], …]. */
export function barList(entries, { width = 260 } = {}) {
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const row = 20;
  const height = Math.max(row, entries.length * row);
  return s(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", class: "chart", "aria-label": entries.map(([l, v]) => `${l}: ${v}`).join(", ") },
    entries.map(([label, value], i) => [
      s("text", { class: "axis", x: 0, y: i * row + 14 }, label),
      s("rect", { class: "bar-queue", x: 100, y: i * row + 4, width: ((width - 140) * value) / max, height: row - 8 }),
      s("text", { class: "axis", x: 104 + ((width - 140) * value) / max, y: i * row + 14 }, String(value)),
    ]),
  );
}

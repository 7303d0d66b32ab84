// The left column: views (Mine / Unassigned / All) and filters by status, team, tag and
// channel, each with its live count; and the agent's notification settings.

import { h, mount, preservingFocus } from "../dom.js";
import { CHANNELS, STATUSES, teamName } from "../format.js";
import { askPermission, notificationPermission, setSound, soundOn } from "../notify.js";
import { state, update } from "../store.js";
import { t, tf } from "../i18n.js";

const VIEWS = [
  ["mine", "Mine"],
  ["unassigned", "Unassigned"],
  ["all", "All"],
];

export function renderSidebar(root, onFilter) {
  const f = state.filter;
  const counts = state.counts;
  const count = (n) => h("span", { class: "count", "aria-label": tf("{n} tickets", { n: n ?? 0 }) }, String(n ?? "…"));

  const views = h(
    "ul",
    { class: "views" },
    VIEWS.map(([key, label]) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            id: `view-${key}`,
            class: `view-button${f.view === key ? " current" : ""}`,
            "aria-pressed": f.view === key ? "true" : "false",
            onclick: () => onFilter({ view: key }),
          },
          h("span", {}, t(label)),
          count(counts && counts.views[key]),
        ),
      ),
    ),
  );

  const statusOptions = [["active", t("Active")], ...STATUSES.map((s) => [s, t(s)])];
  const statusSelect = select("filter-status", t("Status"), f.status, statusOptions, counts && counts.status, (v) =>
    onFilter({ status: v }),
  );
  const teamOptions = [["", t("Any team")], ...state.teams.map((t) => [t.id, t.name])];
  const teamSelect = select("filter-team", t("Team"), f.team, teamOptions, counts && counts.teams, (v) =>
    onFilter({ team: v }),
  );
  const tags = Object.keys((counts && counts.tags) || {}).sort();
  if (f.tag && !tags.includes(f.tag)) tags.push(f.tag);
  const tagSelect = select("filter-tag", t("Tag"), f.tag, [["", t("Any tag")], ...tags.map((t) => [t, t])], counts && counts.tags, (v) =>
    onFilter({ tag: v }),
  );
  const channelSelect = select(
    "filter-channel",
    t("Channel"),
    f.channel,
    [["", t("Any channel")], ...CHANNELS.map((c) => [c, c])],
    counts && counts.channels,
    (v) => onFilter({ channel: v }),
  );

  preservingFocus(root, () =>
    mount(
      root,
      h("h2", { class: "sr-only" }, t("Views and filters")),
      views,
      h("div", { class: "filters" }, statusSelect, teamSelect, tagSelect, channelSelect),
      teamsSummary(counts),
      notificationSettings(),
    ),
  );
}

// Desktop notifications are asked for only from this button, never on load.
function notificationSettings() {
  const permission = notificationPermission();
  let desktop;
  if (permission === "granted") desktop = h("p", { class: "notify-state", id: "notify-state" }, t("Desktop notifications are on."));
  else if (permission === "denied") desktop = h("p", { class: "notify-state", id: "notify-state" }, t("Desktop notifications are blocked in this browser's site settings."));
  else if (permission === "unsupported") desktop = h("p", { class: "notify-state", id: "notify-state" }, t("This browser cannot show desktop notifications."));
  else {
    desktop = h(
      "button",
      { type: "button", id: "notify-enable", onclick: async () => { await askPermission(); update(); } },
      t("Turn on desktop notifications"),
    );
  }
  return h(
    "section",
    { class: "notify-settings", "aria-labelledby": "notify-title" },
    h("h3", { id: "notify-title" }, t("Notifications")),
    h("p", { class: "notify-help" }, t("For conversations assigned to you, your customers' replies and notes that mention you.")),
    desktop,
    h(
      "label",
      { class: "notify-sound" },
      h("input", { type: "checkbox", id: "notify-sound", checked: soundOn(), onchange: (e) => { setSound(e.target.checked); update(); } }),
      ` ${t("Play a sound")}`,
    ),
  );
}

function select(id, label, value, options, counts, onChange) {
  const control = h(
    "select",
    { id, onchange: (event) => onChange(event.target.value) },
    options.map(([key, text]) =>
      h("option", { value: key, selected: key === value }, counts && key && counts[key] !== undefined ? `${text} (${counts[key]})` : text),
    ),
  );
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

function teamsSummary(counts) {
  if (!counts || !state.teams.length) return null;
  return h(
    "div",
    { class: "team-counts" },
    h("h3", {}, t("Active by team")),
    h(
      "ul",
      {},
      state.teams.map((t) => h("li", {}, h("span", {}, teamName(t.id)), h("span", { class: "count" }, String(counts.teams[t.id] || 0)))),
    ),
  );
}

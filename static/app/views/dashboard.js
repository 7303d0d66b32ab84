// The supervisor's live dashboard: queue depth, the longest waits (ticking), agents and their
// load, today's numbers and hourly charts; refetched as events arrive. Reassign in place.

import { reassign } from "../data.js";
import { h, mount, preservingFocus } from "../dom.js";
import { age, duration } from "../format.js";
import { state } from "../store.js";
import { barList, hourlyBars } from "./charts.js";
import { t, tf } from "../i18n.js";

let drawn = null;

let drawnDeflection = null;

export function renderDashboard(root) {
  const d = state.dashboard;
  if (d === drawn && state.deflection === drawnDeflection && root.firstChild) return;
  drawn = d;
  drawnDeflection = state.deflection;
  if (!d) {
    mount(root, h("h2", {}, t("Dashboard")), h("p", { class: "muted" }, state.dashboardError || t("Loading…")));
    return;
  }
  const fetchedAt = Date.now();
  const q = d.queue;
  const queued = q.status.open + q.status.pending + q.status.snoozed;
  preservingFocus(root, () =>
    mount(
      root,
      h("div", { class: "dash-head" }, h("h2", {}, t("Live dashboard")), h("span", { class: "muted" }, t("Updates as conversations move."))),
      h(
        "div",
        { class: "dash-grid" },
        card(
          t("Queue"),
          "dash-queue",
          h(
            "dl",
            { class: "stats" },
            stat(t("In queue"), queued, "queue-total"),
            stat(t("Open"), q.status.open, "queue-open"),
            stat(t("Pending"), q.status.pending, "queue-pending"),
            stat(t("Snoozed"), q.status.snoozed, "queue-snoozed"),
            stat(t("Unassigned"), q.unassigned, "queue-unassigned"),
          ),
        ),
        card(
          t("Oldest waiting"),
          "dash-oldest",
          d.oldest_waiting
            ? [
                h("p", { class: "big", dataset: { age: d.oldest_waiting.age_seconds, at: fetchedAt } }, age(d.oldest_waiting.age_seconds)),
                h("a", { href: `#/tickets/${d.oldest_waiting.ticket_id}` }, `#${d.oldest_waiting.number} ${d.oldest_waiting.subject}`),
              ]
            : h("p", { class: "muted" }, t("Nobody is waiting.")),
        ),
        card(
          tf("Today ({zone})", { zone: d.today.timezone }),
          "dash-today",
          h(
            "dl",
            { class: "stats" },
            stat(t("Created"), d.today.created, "today-created"),
            stat(t("Resolved"), d.today.resolved, "today-resolved"),
            stat(t("Median first response"), duration(d.today.median_first_response_seconds), "today-frt"),
          ),
        ),
        card(
          t("Agents now"),
          "dash-presence",
          h(
            "dl",
            { class: "stats" },
            ["online", "away", "offline"].map((p) => stat(t(p[0].toUpperCase() + p.slice(1)), d.agents.filter((a) => a.presence === p).length, `agents-${p}`)),
          ),
        ),
        card(
          t("Created and resolved per hour"),
          "dash-hourly",
          hourlyBars(d.hourly.created, d.hourly.resolved, { label: tf("Today: {created} created, {resolved} resolved", { created: d.today.created, resolved: d.today.resolved }) }),
          h("p", { class: "legend" }, h("span", { class: "key key-created" }), `${t("created")} `, h("span", { class: "key key-resolved" }), t("resolved")),
          { wide: true },
        ),
        card(t("By team"), "dash-teams", q.teams.length ? barList(q.teams.map((team) => [team.name, team.count])) : h("p", { class: "muted" }, t("No active tickets."))),
        card(
          t("By channel"),
          "dash-channels",
          Object.keys(q.channels).length ? barList(Object.entries(q.channels)) : h("p", { class: "muted" }, t("No active tickets.")),
        ),
        card(t("Agents"), "dash-agents", agentsTable(d.agents), { wide: true }),
        card(t("Longest waits"), "dash-waiting", waitingTable(d.waiting, d.agents, fetchedAt), { wide: true }),
        card(t("Help articles in the widget (30 days)"), "dash-deflection", deflectionCard(state.deflection), { wide: true }),
      ),
    ),
  );
}

function percent(rate) {
  return rate === null || rate === undefined ? "–" : `${Math.round(rate * 100)}%`;
}

// Of the articles customers opened in the widget, how often they then left without writing.
function deflectionCard(report) {
  if (!report) return h("p", { class: "muted" }, t("Loading…"));
  const totals = report.totals;
  if (!totals.read) return h("p", { class: "muted" }, t("No help article was read in the widget in the last 30 days."));
  return [
    h(
      "dl",
      { class: "stats" },
      stat(t("Articles read"), totals.read, "deflection-read"),
      stat(t("Left without writing"), totals.left, "deflection-left"),
      stat(t("Wrote to us after"), totals.wrote, "deflection-wrote"),
      stat(t("Deflection"), percent(totals.deflection_rate), "deflection-rate"),
    ),
    h(
      "table",
      { class: "agents", id: "deflection-articles" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Article")), h("th", { scope: "col" }, t("Read")), h("th", { scope: "col" }, t("Left without writing")), h("th", { scope: "col" }, t("Deflection")))),
      h(
        "tbody",
        {},
        report.articles.map((a) =>
          h("tr", {}, h("th", { scope: "row" }, a.title || h("span", { class: "muted" }, t("(deleted article)"))), h("td", {}, String(a.read)), h("td", {}, String(a.left)), h("td", {}, percent(a.deflection_rate))),
        ),
      ),
    ),
  ];
}

function card(title, id, ...rest) {
  const last = rest[rest.length - 1];
  const options = last && !(last instanceof Node) && !Array.isArray(last) && typeof last === "object" ? rest.pop() : {};
  return h("section", { class: `card${options.wide ? " wide" : ""}`, id, "aria-labelledby": `${id}-title` }, h("h3", { id: `${id}-title` }, title), rest);
}

function stat(label, value, id) {
  return h("div", { class: "stat" }, h("dt", {}, label), h("dd", { id }, String(value)));
}

function agentsTable(agents) {
  return h(
    "table",
    { class: "agents" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Agent")), h("th", { scope: "col" }, t("Role")), h("th", { scope: "col" }, t("Status")), h("th", { scope: "col" }, t("Open tickets")))),
    h(
      "tbody",
      {},
      agents.map((a) =>
        h(
          "tr",
          { dataset: { user: a.user_id } },
          h("th", { scope: "row" }, h("span", { class: `dot dot-${a.presence}`, "aria-hidden": "true" }), a.name),
          h("td", {}, t(a.role)),
          h("td", { class: `presence presence-${a.presence}` }, t(a.presence)),
          h("td", {}, String(a.open_tickets)),
        ),
      ),
    ),
  );
}

function waitingTable(waiting, agents, fetchedAt) {
  if (!waiting.length) return h("p", { class: "muted" }, t("Nobody is waiting for a reply."));
  const assignable = state.me.permissions.includes("assign_others");
  return h(
    "table",
    { class: "waiting" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Ticket")), h("th", { scope: "col" }, t("Status")), h("th", { scope: "col" }, t("Waiting")), h("th", { scope: "col" }, t("Assignee")))),
    h(
      "tbody",
      {},
      waiting.map((w) => {
        const id = `reassign-${w.ticket_id}`;
        const assignee = assignable
          ? [
              h("label", { for: id, class: "sr-only" }, tf("Assignee of #{number}", { number: w.number })),
              h(
                "select",
                { id, onchange: (event) => reassign(w.ticket_id, w.version, event.target.value) },
                h("option", { value: "", selected: !w.assignee_id }, t("Unassigned")),
                agents.map((a) => h("option", { value: a.user_id, selected: a.user_id === w.assignee_id }, `${a.name} (${t(a.presence)}, ${a.open_tickets})`)),
              ),
            ]
          : (agents.find((a) => a.user_id === w.assignee_id) || { name: t("Unassigned") }).name;
        return h(
          "tr",
          {},
          h("th", { scope: "row" }, h("a", { href: `#/tickets/${w.ticket_id}` }, `#${w.number} ${w.subject}`)),
          h("td", {}, t(w.status)),
          h("td", { dataset: { age: w.age_seconds, at: fetchedAt } }, age(w.age_seconds)),
          h("td", {}, assignee),
        );
      }),
    ),
  );
}

/** Advance every waiting age by the time since the fetch: called once a second. */
export function tickAges(root) {
  const now = Date.now();
  for (const node of root.querySelectorAll("[data-age]")) {
    node.textContent = age(Number(node.dataset.age) + (now - Number(node.dataset.at)) / 1000);
  }
}

// The ticket list: rows slide in when a ticket arrives or starts to match the filter, and
// each row shows who wrote in, their last message, whether it is unread, how long the
// customer has been waiting, and who is viewing or replying to it right now. A checkbox per
// row (and one for every row shown) selects tickets for bulk actions: assign, tag, resolve.

import { bulkChange } from "../data.js";
import { h, mount, preservingFocus } from "../dom.js";
import { since, teamName } from "../format.js";
import { isUnread, refreshTitle } from "../notify.js";
import { memberName, state, visibleTickets, whoIs } from "../store.js";
import { t, tf } from "../i18n.js";
import { emptyInboxGuide } from "./checklist.js";

const seen = new Set();
let firstDraw = true;
const selected = new Set(); // ticket ids ticked for a bulk action
let bulkBusy = false;
let bulkTag = ""; // the tag typed for "Add tag"
let bulkReport = null; // {text, conflicts: [ticket]} after the last bulk action

const SORTS = [
  ["newest", "Newest first"],
  ["updated", "Recently active"],
  ["waiting", "Waiting longest"],
];
let searchTimer = 0;

/** `on`: {filter(patch), more()} — change the filter (refetches), load the next page. */
export function renderList(root, title, on) {
  const tickets = visibleTickets();
  const openId = state.open && state.open.id;
  const shownIds = new Set(tickets.map((t) => t.id));
  for (const id of selected) if (!shownIds.has(id)) selected.delete(id); // left the list
  const rows = tickets.map((t) => row(t, t.id === openId, () => renderList(root, title, on)));
  const redraw = () => renderList(root, title, on);
  refreshTitle();
  preservingFocus(root, () =>
    mount(
      root,
      h("div", { class: "list-head" }, h("h2", { id: "list-title" }, title), h("span", { class: "muted" }, state.listIds === null ? t("Loading…") : tf("{n} shown", { n: tickets.length }))),
      h(
        "div",
        { class: "list-tools" },
        h("input", {
          type: "search",
          id: "ticket-search",
          placeholder: t("Search subject or #number"),
          "aria-label": t("Search tickets"),
          value: state.filter.text,
          oninput: (e) => {
            // Typed text stays in the box across redraws; the list refetches once typing pauses.
            state.filter.text = e.target.value;
            clearTimeout(searchTimer);
            searchTimer = setTimeout(() => on.filter({ text: state.filter.text.trim() }), 300);
          },
        }),
        h(
          "select",
          { id: "ticket-sort", "aria-label": t("Sort"), onchange: (e) => on.filter({ order: e.target.value }) },
          SORTS.map(([value, label]) => h("option", { value, selected: state.filter.order === value }, t(label))),
        ),
      ),
      tickets.length ? bulkBar(tickets, redraw) : null,
      bulkReport ? bulkOutcome(redraw) : null,
      tickets.length || state.listIds === null
        ? h("ul", { class: "ticket-list", "aria-labelledby": "list-title" }, rows)
        : emptyList(),
      state.listCursor && state.listIds !== null
        ? h("button", { type: "button", id: "list-more", class: "more", onclick: () => on.more() }, t("Show more"))
        : null,
    ),
  );
  firstDraw = firstDraw && state.listIds === null;
}

function unfiltered() {
  const f = state.filter;
  return f.view === "all" && f.status === "active" && !f.team && !f.tag && !f.channel && !(f.text && f.text.trim());
}

function emptyList() {
  if (state.filter.text) return h("p", { class: "empty" }, t("No ticket matches this search."));
  const guide = unfiltered() ? emptyInboxGuide() : null;
  return guide || h("p", { class: "empty" }, t("Nothing here. New conversations appear by themselves."));
}

// ---- bulk actions ------------------------------------------------------------------------------

function bulkBar(tickets, redraw) {
  const ids = tickets.map((t) => t.id);
  const ticked = ids.filter((id) => selected.has(id));
  const all = h("input", {
    type: "checkbox",
    id: "select-all",
    checked: ticked.length > 0 && ticked.length === ids.length,
    onchange: (e) => {
      for (const id of ids) {
        if (e.target.checked) selected.add(id);
        else selected.delete(id);
      }
      redraw();
    },
  });
  all.indeterminate = ticked.length > 0 && ticked.length < ids.length;
  const parts = [h("label", { class: "select-all" }, all, h("span", {}, tf("Select all {n} shown", { n: ids.length })))];
  if (ticked.length) {
    const me = state.me && state.me.user_id;
    const agents = state.members.filter((m) => m.active);
    // Typed text outlives the redraws events cause.
    const tag = h("input", { type: "text", id: "bulk-tag", placeholder: t("tag"), "aria-label": t("Tag to add"), maxlength: 50, value: bulkTag, oninput: (e) => (bulkTag = e.target.value) });
    const run = (label, changesFor) => runBulk(ticked, label, changesFor, redraw);
    parts.push(
      h("span", { class: "bulk-count", id: "bulk-count" }, tf("{n} selected", { n: ticked.length })),
      h("button", { type: "button", id: "bulk-assign-me", disabled: bulkBusy, onclick: () => run(t("assigned to you"), (t) => (t.assignee_id === me ? null : { assignee_id: me })) }, t("Assign to me")),
      h(
        "select",
        {
          id: "bulk-assign",
          "aria-label": t("Assign the selected to"),
          disabled: bulkBusy,
          onchange: (e) => {
            const value = e.target.value;
            if (!value) return;
            if (value.startsWith("team:")) {
              const team = value.slice(5);
              run(tf("moved to {team}", { team: teamName(team) }), (t) => (t.team_id === team ? null : { team_id: team }));
            } else {
              run(tf("assigned to {name}", { name: memberName(value) }), (t) => (t.assignee_id === value ? null : { assignee_id: value }));
            }
          },
        },
        h("option", { value: "" }, t("Assign to…")),
        agents.length ? h("optgroup", { label: t("Agents") }, agents.map((m) => h("option", { value: m.user_id }, m.name))) : null,
        state.teams.length ? h("optgroup", { label: t("Teams") }, state.teams.map((t) => h("option", { value: `team:${t.id}` }, t.name))) : null,
      ),
      h(
        "form",
        {
          class: "bulk-tag",
          onsubmit: (e) => {
            e.preventDefault();
            const value = bulkTag.trim().toLowerCase();
            if (!value) return;
            bulkTag = "";
            run(tf("tagged {tag}", { tag: value }), (t) => (t.tags.includes(value) ? null : { tags: [...t.tags, value] }));
          },
        },
        tag,
        h("button", { type: "submit", id: "bulk-tag-add", disabled: bulkBusy }, t("Add tag")),
      ),
      h("button", { type: "button", id: "bulk-resolve", disabled: bulkBusy, onclick: () => run(t("resolved"), (t) => (t.status === "resolved" || t.status === "closed" ? null : { status: "resolved" })) }, t("Resolve")),
      h("button", { type: "button", id: "bulk-clear", class: "link", onclick: () => { selected.clear(); redraw(); } }, t("Clear selection")),
    );
  }
  return h("div", { class: `bulk-bar${ticked.length ? " active" : ""}`, role: "group", "aria-label": t("Bulk actions") }, parts);
}

async function runBulk(ids, label, changesFor, redraw) {
  bulkBusy = true;
  bulkReport = { text: tf("Changing {n} tickets…", { n: ids.length }), conflicts: [], failed: [] };
  redraw();
  const outcome = await bulkChange(ids, changesFor);
  bulkBusy = false;
  const done = outcome.changed.length;
  const parts = [tf(done === 1 ? "{n} ticket {label}." : "{n} tickets {label}.", { n: done, label })];
  if (outcome.unchanged.length) parts.push(tf("{n} already were.", { n: outcome.unchanged.length }));
  if (outcome.conflicts.length) {
    const numbers = outcome.conflicts.map((t) => `#${t.number}`).join(", ");
    parts.push(tf("{n} changed by someone else meanwhile and were left as they are: {numbers}.", { n: outcome.conflicts.length, numbers }));
  }
  if (outcome.failed.length) {
    const failures = outcome.failed.map((f) => `#${f.ticket.number} (${f.message})`).join(", ");
    parts.push(tf("{n} could not be changed: {failures}.", { n: outcome.failed.length, failures }));
  }
  bulkReport = { text: parts.join(" "), conflicts: outcome.conflicts, failed: outcome.failed };
  // What went through is done; what conflicted stays ticked, to review and try again.
  for (const t of outcome.changed) selected.delete(t.id);
  for (const t of outcome.unchanged) selected.delete(t.id);
  redraw();
}

function bulkOutcome(redraw) {
  const trouble = bulkReport.conflicts.length || bulkReport.failed.length;
  return h(
    "div",
    { class: `bulk-outcome${trouble ? " trouble" : ""}`, id: "bulk-outcome", role: "status" },
    h("span", {}, bulkReport.text),
    h("button", { type: "button", class: "link", onclick: () => { bulkReport = null; redraw(); } }, t("Dismiss")),
  );
}

// ---- rows ----------------------------------------------------------------------------------------

function row(ticket, current, redraw) {
  // Rows the list fetch brought appear at once; rows that arrive or start to match live
  // slide in.
  const fresh = !seen.has(ticket.id) && !firstDraw && !state.listIds.includes(ticket.id);
  seen.add(ticket.id);
  const viewing = whoIs("viewing", ticket.id);
  const typing = whoIs("typing", ticket.id);
  const collision = [];
  if (typing.length) collision.push(tf(typing.length > 1 ? "{names} are replying…" : "{names} is replying…", { names: typing.join(", ") }));
  const onlyViewing = viewing.filter((n) => !typing.includes(n));
  if (onlyViewing.length) collision.push(tf(onlyViewing.length > 1 ? "{names} are viewing" : "{names} is viewing", { names: onlyViewing.join(", ") }));
  const assignee = ticket.assignee_id ? memberName(ticket.assignee_id) : t("Unassigned");
  const unread = isUnread(ticket);
  const ticked = selected.has(ticket.id);
  const box = h("input", {
    type: "checkbox",
    class: "row-select",
    id: `select-${ticket.id}`,
    "aria-label": tf("Select #{number} {subject}", { number: ticket.number, subject: ticket.subject }),
    checked: ticked,
    onchange: (e) => {
      if (e.target.checked) selected.add(ticket.id);
      else selected.delete(ticket.id);
      redraw();
    },
  });
  return h(
    "li",
    { class: `ticket-row${current ? " current" : ""}${fresh ? " slide-in" : ""}${unread ? " unread" : ""}${ticked ? " ticked" : ""}`, dataset: { ticket: ticket.id } },
    box,
    h(
      "a",
      {
        href: `#/tickets/${ticket.id}`,
        id: `row-${ticket.id}`,
        "aria-current": current ? "true" : null,
      },
      h(
        "span",
        { class: "row-top" },
        unread ? h("span", { class: "unread-dot", role: "img", "aria-label": t("Unread") }) : null,
        h("span", { class: "number" }, `#${ticket.number}`),
        h("span", { class: `badge status-${ticket.status}` }, t(ticket.status)),
        ticket.priority !== "normal" ? h("span", { class: `badge priority-${ticket.priority}` }, t(ticket.priority)) : null,
        h("span", { class: "channel" }, ticket.channel),
        ticket.waiting_since
          ? h(
              "span",
              { class: "waiting", title: t("How long the customer has been waiting for a reply") },
              h("span", { class: "sr-only" }, `${t("Waiting")} `),
              h("span", { "aria-hidden": "true" }, "⏱ "),
              h("span", { dataset: { since: ticket.waiting_since } }, since(ticket.waiting_since)),
            )
          : h("span", { class: "age", dataset: { since: ticket.updated_at || ticket.created_at || "" } }, since(ticket.updated_at || ticket.created_at)),
      ),
      h("span", { class: "row-contact", title: ticket.contact_name || "" }, ticket.contact_name || t("Unknown contact")),
      h("span", { class: "subject", title: ticket.subject }, ticket.subject),
      ticket.preview
        ? h("span", { class: "preview" }, ticket.preview_from === "agent" ? h("span", { class: "preview-from" }, t("Reply: ")) : null, ticket.preview)
        : null,
      h(
        "span",
        { class: "row-bottom" },
        h(
          "span",
          { class: "assignee", title: assignee },
          ticket.assignee_id ? h("span", { class: `dot dot-${state.presence[ticket.assignee_id] || "offline"}`, "aria-hidden": "true" }) : null,
          assignee,
        ),
        ticket.tags.length ? h("span", { class: "tags" }, ticket.tags.map((t) => h("span", { class: "tag" }, t))) : null,
      ),
      collision.length ? h("span", { class: "collision" }, collision.join(" · ")) : null,
    ),
  );
}

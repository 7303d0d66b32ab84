// The ticket list: rows slide in when a ticket arrives or starts to match the filter, and
// each row shows who is viewing or replying to it right now.

import { h, mount, preservingFocus } from "../dom.js";
import { since } from "../format.js";
import { memberName, state, visibleTickets, whoIs } from "../store.js";

const seen = new Set();
let firstDraw = true;

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
  const rows = tickets.map((t) => row(t, t.id === openId));
  preservingFocus(root, () =>
    mount(
      root,
      h("div", { class: "list-head" }, h("h2", { id: "list-title" }, title), h("span", { class: "muted" }, state.listIds === null ? "Loading…" : `${tickets.length} shown`)),
      h(
        "div",
        { class: "list-tools" },
        h("input", {
          type: "search",
          id: "ticket-search",
          placeholder: "Search subject or #number",
          "aria-label": "Search tickets",
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
          { id: "ticket-sort", "aria-label": "Sort", onchange: (e) => on.filter({ order: e.target.value }) },
          SORTS.map(([value, label]) => h("option", { value, selected: state.filter.order === value }, label)),
        ),
      ),
      tickets.length || state.listIds === null
        ? h("ul", { class: "ticket-list", "aria-labelledby": "list-title" }, rows)
        : h("p", { class: "empty" }, state.filter.text ? "No ticket matches this search." : "Nothing here. New conversations appear by themselves."),
      state.listCursor && state.listIds !== null
        ? h("button", { type: "button", id: "list-more", class: "more", onclick: () => on.more() }, "Show more")
        : null,
    ),
  );
  firstDraw = firstDraw && state.listIds === null;
}

function row(ticket, current) {
  // Rows the list fetch brought appear at once; rows that arrive or start to match live
  // slide in.
  const fresh = !seen.has(ticket.id) && !firstDraw && !state.listIds.includes(ticket.id);
  seen.add(ticket.id);
  const viewing = whoIs("viewing", ticket.id);
  const typing = whoIs("typing", ticket.id);
  const collision = [];
  if (typing.length) collision.push(`${typing.join(", ")} ${typing.length > 1 ? "are" : "is"} replying…`);
  const onlyViewing = viewing.filter((n) => !typing.includes(n));
  if (onlyViewing.length) collision.push(`${onlyViewing.join(", ")} ${onlyViewing.length > 1 ? "are" : "is"} viewing`);
  const assignee = ticket.assignee_id ? memberName(ticket.assignee_id) : "Unassigned";
  return h(
    "li",
    { class: `ticket-row${current ? " current" : ""}${fresh ? " slide-in" : ""}`, dataset: { ticket: ticket.id } },
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
        h("span", { class: "number" }, `#${ticket.number}`),
        h("span", { class: `badge status-${ticket.status}` }, ticket.status),
        ticket.priority !== "normal" ? h("span", { class: `badge priority-${ticket.priority}` }, ticket.priority) : null,
        h("span", { class: "channel" }, ticket.channel),
        h("span", { class: "age", dataset: { since: ticket.updated_at || ticket.created_at || "" } }, since(ticket.updated_at || ticket.created_at)),
      ),
      h("span", { class: "subject" }, ticket.subject),
      h(
        "span",
        { class: "row-bottom" },
        h(
          "span",
          { class: "assignee" },
          ticket.assignee_id ? h("span", { class: `dot dot-${state.presence[ticket.assignee_id] || "offline"}`, "aria-hidden": "true" }) : null,
          assignee,
        ),
        ticket.tags.length ? h("span", { class: "tags" }, ticket.tags.map((t) => h("span", { class: "tag" }, t))) : null,
      ),
      collision.length ? h("span", { class: "collision" }, collision.join(" · ")) : null,
    ),
  );
}

// One ticket: who else is on it, the conflict notice, the controls (status with its snooze
// picker, priority, assignee, team, tags), the thread, the composer and the contact sidebar.
// With AI on, "Summarize" streams a summary of the thread into a box above it.
// On a narrow screen the ticket takes the whole width: a bar above it leads back to the list
// and shows or hides the contact.

import { changeAuthor, changeTicket, conflictSummary } from "../data.js";
import { h, mount, preservingFocus } from "../dom.js";
import { PRIORITIES, describeChange, localInputValue, localTime } from "../format.js";
import { can, memberName, state, update, whoIs } from "../store.js";
import { aiAvailable, createSummary, refreshAi } from "./ai.js";
import { createComposer } from "./composer.js";
import { renderContact } from "./contact.js";
import { renderThread } from "./thread.js";
import { t, tf } from "../i18n.js";

// The moves a status allows come from the server (GET /me), which also enforces them.
const nextStatuses = (status) => (state.me?.ticket_transitions || {})[status] || [];
const HOUR = 3600_000;

/** The snooze picker, while open: {ticketId, value (datetime-local text), error}. */
let snoozing = null;

function atNine(daysAhead, now = new Date()) {
  const date = new Date(now);
  date.setDate(date.getDate() + daysAhead);
  date.setHours(9, 0, 0, 0);
  return date;
}

/** Days from `now` to the Monday "Next week" means. The coming Monday, except on a Sunday:
 * that Monday is already "Tomorrow", and two buttons for the same moment would leave no way
 * to put a ticket off into the week after, which is what someone choosing "Next week" on a
 * weekend asks for — so it is the Monday after (8 days). */
function daysToNextWeek(now) {
  const days = (8 - now.getDay()) % 7 || 7;
  return days === 1 ? 8 : days;
}

/** The snooze presets at `now`, each with when it ends (local time): computed when the picker
 * draws and again when one is chosen. */
export function snoozePresets(now = new Date()) {
  return [
    { label: t("Later today (+3 h)"), until: new Date(now.getTime() + 3 * HOUR) },
    { label: t("Tomorrow 9:00"), until: atNine(1, now) },
    { label: t("Next week (Monday 9:00)"), until: atNine(daysToNextWeek(now), now) },
  ];
}

export function createTicketView(root) {
  const top = h("div", { class: "ticket-top" });
  const who = h("div", { class: "collision-slot" });
  const notice = h("div", { class: "conflict-slot" });
  const props = h("div", { class: "controls-slot" });
  const thread = h("div", { class: "thread", id: "thread", tabindex: "0", "aria-label": t("Conversation") });
  const composerSlot = h("div", { class: "composer-slot" });
  const summarySlot = h("div", { class: "summary-slot" });
  const contact = h("aside", { class: "contact-pane", id: "contact-pane", "aria-label": t("Contact") });
  const pane = h("section", { class: "ticket-pane", "aria-labelledby": "ticket-title" }, top, who, notice, props, summarySlot, thread, composerSlot);
  const contactToggle = h("button", { type: "button", class: "contact-toggle", id: "contact-toggle", "aria-expanded": "false", "aria-controls": "contact-pane" }, t("Contact"));
  const bar = h(
    "div",
    { class: "ticket-bar" },
    h("a", { href: "#/inbox", class: "back-link", id: "ticket-back", onclick: backToList }, h("span", { "aria-hidden": "true" }, "← "), t("Back to conversations")),
    contactToggle,
  );
  const layout = h("div", { class: "ticket-layout" }, bar, pane, contact);
  contactToggle.addEventListener("click", () => {
    const show = contactToggle.getAttribute("aria-expanded") !== "true";
    contactToggle.setAttribute("aria-expanded", show ? "true" : "false");
    layout.classList.toggle("show-contact", show);
  });
  mount(root, layout);

  let composer = null;
  let summary = null;
  let drawnMessages = null;
  let drawnControlsKey = "";
  let drawnConflict = null;
  let shownId = null;

  function render() {
    const open = state.open;
    const ticket = open && state.tickets[open.id];
    // Which of list and ticket a narrow screen shows (app.css).
    root.toggleAttribute("data-open", Boolean(open));
    if (open && open.id !== shownId) {
      shownId = open.id;
      queueMicrotask(focusOnNarrow);
    }
    if (!open) shownId = null;
    if (!open || !ticket) {
      mount(top, h("h2", { id: "ticket-title", tabindex: "-1" }, open && open.loadError ? open.loadError : open ? t("Loading…") : t("No ticket open")));
      mount(thread, open ? null : h("p", { class: "muted empty" }, t("Pick a conversation on the left, or press j.")));
      who.replaceChildren();
      notice.replaceChildren();
      props.replaceChildren();
      if (composer) {
        composer.dispose();
        composer = null;
        composerSlot.replaceChildren();
      }
      if (summary) {
        summary.dispose();
        summary = null;
        summarySlot.replaceChildren();
      }
      renderContact(contact);
      drawnMessages = null;
      drawnControlsKey = "";
      drawnConflict = null;
      return;
    }
    const mayPick = ticket.status === "snoozed" || nextStatuses(ticket.status).includes("snoozed");
    if (snoozing && (snoozing.ticketId !== ticket.id || !mayPick)) snoozing = null;
    const snoozeKey = snoozing ? `snooze:${snoozing.error}` : "";
    if (!summary || summary.ticketId !== ticket.id) {
      if (summary) summary.dispose();
      summary = createSummary(ticket.id);
      mount(summarySlot, summary.box);
      refreshAi();
      drawnControlsKey = "";
    }
    summary.show(true);
    const controlsKey = `${ticket.id}:${ticket.version}:${state.members.length}:${state.teams.length}:${state.controlsEpoch || 0}:${snoozeKey}`;
    if (controlsKey !== drawnControlsKey) {
      drawnControlsKey = controlsKey;
      preservingFocus(top, () => mount(top, header(ticket, summary.button)));
      preservingFocus(props, () => mount(props, controls(ticket)));
    }
    const line = collisionLine(ticket);
    if (who.dataset.line !== line || !who.firstChild) {
      who.dataset.line = line;
      mount(who, h("p", { class: `collision-banner${line ? "" : " quiet"}`, role: "status", "aria-live": "polite" }, line));
    }
    const conflictKey = state.conflict ? `${JSON.stringify(state.conflict)}:${changeAuthor(state.tickets[state.conflict.ticketId] || {})}` : null;
    if (conflictKey !== drawnConflict) {
      drawnConflict = conflictKey;
      preservingFocus(notice, () => mount(notice, conflictNotice(ticket)));
    }
    const customer = (open.contact && (open.contact.name || open.contact.email)) || t("Customer");
    const ai = aiAvailable() ? "on" : "off";
    if (open.messages !== drawnMessages || thread.dataset.customer !== customer || thread.dataset.ai !== ai) {
      drawnMessages = open.messages;
      thread.dataset.customer = customer;
      thread.dataset.ai = ai;
      renderThread(thread, open.messages, customer, ticket.channel);
    }
    if (!composer || composer.ticketId !== ticket.id) {
      if (composer) composer.dispose();
      composer = createComposer(ticket.id);
      mount(composerSlot, composer.element);
    }
    composer.setClosed(ticket.status === "closed");
    renderContact(contact);
  }

  return {
    render,
    focusComposer(kind) {
      if (composer) composer.focus(kind);
    },
  };
}

const NARROW = "(max-width: 899px)";

/** On a narrow screen the row just tapped has gone with the list: the ticket's title takes
 * the focus, so a keyboard or screen reader carries on from there. */
function focusOnNarrow() {
  if (!window.matchMedia(NARROW).matches) return;
  const active = document.activeElement;
  if (active && active !== document.body && !active.closest("#list-pane")) return;
  document.getElementById("ticket-title")?.focus({ preventScroll: true });
}

/** Back to the list (the link's own navigation), with the focus on the ticket's row. */
function backToList() {
  const id = state.open && state.open.id;
  if (!id) return;
  window.addEventListener("hashchange", () => setTimeout(() => document.getElementById(`row-${id}`)?.focus(), 0), { once: true });
}

function header(ticket, summarize) {
  return h(
    "div",
    { class: "ticket-header" },
    h("h2", { id: "ticket-title", tabindex: "-1", title: `#${ticket.number} ${ticket.subject}` }, h("span", { class: "number" }, `#${ticket.number} `), ticket.subject),
    h("span", { class: `badge status-${ticket.status}`, id: "ticket-status-badge" }, t(ticket.status)),
    ticket.status === "snoozed" && ticket.snoozed_until
      ? [
          h("time", { class: "snoozed-until", id: "ticket-snoozed-until", datetime: ticket.snoozed_until }, tf("Snoozed until {time}", { time: localTime(ticket.snoozed_until) })),
          h("button", { type: "button", class: "link-button", id: "snooze-change", onclick: () => openSnooze(ticket) }, t("Change")),
        ]
      : null,
    h("span", { class: "channel" }, ticket.channel),
    summarize,
  );
}

function collisionLine(ticket) {
  const typing = whoIs("typing", ticket.id);
  const viewing = whoIs("viewing", ticket.id).filter((n) => !typing.includes(n));
  const lines = [];
  for (const name of typing) lines.push(tf("{names} is replying…", { names: name }));
  for (const name of viewing) lines.push(tf("{names} is viewing", { names: name }));
  return lines.join(" · ");
}

/** Whether this person may move a ticket from `from` to `to` (the server's rule): agents take
 * an unassigned ticket or hand back their own; others reassign. */
function mayAssign(from, to) {
  if (can("assign_others")) return true;
  const me = state.me.user_id;
  return (to === me && !from) || (!to && from === me);
}

/** Why `mine` may not be applied over `current` any more ("" when it may). */
function refusal(mine, current) {
  if ("assignee_id" in mine && (mine.assignee_id || null) !== (current.assignee_id || null) && !mayAssign(current.assignee_id, mine.assignee_id)) {
    return current.assignee_id
      ? tf("{name} has it now, and only a supervisor can reassign a ticket someone else has.", { name: memberName(current.assignee_id) })
      : t("Only a supervisor can assign it to someone else.");
  }
  if (mine.status && mine.status !== current.status && !nextStatuses(current.status).includes(mine.status)) {
    return tf("A {from} ticket cannot be set to {to}.", { from: current.status, to: mine.status });
  }
  return "";
}

function conflictNotice(ticket) {
  const conflict = state.conflict;
  if (!conflict || conflict.ticketId !== ticket.id) return null;
  const { current, changed } = conflictSummary(conflict);
  const who = changeAuthor(current) || t("Someone");
  const mine = Object.entries(conflict.mine)
    .filter(([field]) => field !== "snoozed_until")
    .map(([field, value]) => describeChange(field, value));
  const why = refusal(conflict.mine, current);
  // Someone else took the ticket this person meant to take: say who, and that it stays theirs.
  const took = "assignee_id" in conflict.mine && conflict.mine.assignee_id === state.me.user_id && current.assignee_id && current.assignee_id !== state.me.user_id;
  const retry = why
    ? null
    : h(
        "button",
        {
          type: "button",
          onclick: async () => {
            const mineChanges = conflict.mine;
            update({ conflict: null });
            await changeTicket(ticket.id, mineChanges);
          },
        },
        t("Apply my change anyway"),
      );
  const dismiss = h("button", { type: "button", id: "conflict-dismiss", onclick: () => update({ conflict: null }) }, t("Keep theirs"));
  return h(
    "div",
    { class: "conflict", role: "alert", id: "conflict" },
    took
      ? h("strong", {}, `${tf("{name} took this ticket first.", { name: memberName(current.assignee_id) })} `)
      : h("strong", {}, `${t("This ticket changed while you were looking at it.")} `),
    h("span", { class: "conflict-who" }, changed.length ? tf("{who} changed {fields}.", { who, fields: changed.join(", ") }) : tf("{who} changed it.", { who })),
    " ",
    h("span", {}, tf("Your change ({changes}) was not applied; what you see now is the current state.", { changes: mine.join(", ") || t("none") })),
    why ? [" ", h("span", { class: "conflict-why", id: "conflict-why" }, why)] : null,
    h("div", { class: "conflict-actions" }, retry, dismiss),
  );
}

function controls(ticket) {
  const statusOptions = [ticket.status, ...nextStatuses(ticket.status)];
  const picking = Boolean(snoozing);
  const status = h(
    "select",
    {
      id: "ticket-status",
      disabled: ticket.status === "closed",
      "aria-controls": picking ? "snooze-picker" : null,
      onchange: (event) => {
        const value = event.target.value;
        if (value === "snoozed") {
          openSnooze(ticket);
          return;
        }
        snoozing = null;
        changeTicket(ticket.id, { status: value });
      },
    },
    statusOptions.map((s) => h("option", { value: s, selected: picking ? s === "snoozed" : s === ticket.status }, s === "snoozed" && s !== ticket.status ? t("snoozed until…") : t(s))),
  );
  const priority = h(
    "select",
    { id: "ticket-priority", onchange: (event) => changeTicket(ticket.id, { priority: event.target.value }) },
    PRIORITIES.map((p) => h("option", { value: p, selected: p === ticket.priority }, t(p))),
  );
  const team = h(
    "select",
    { id: "ticket-team", onchange: (event) => changeTicket(ticket.id, { team_id: event.target.value || null }) },
    h("option", { value: "", selected: !ticket.team_id }, t("No team")),
    state.teams.map((t) => h("option", { value: t.id, selected: t.id === ticket.team_id }, t.name)),
  );
  const resolve =
    ticket.status === "resolved" || ticket.status === "closed"
      ? null
      : h("button", { type: "button", id: "ticket-resolve", onclick: () => changeTicket(ticket.id, { status: "resolved" }) }, t("Resolve (e)"));
  return h(
    "div",
    { class: "controls", role: "group", "aria-label": t("Ticket properties") },
    h("div", { class: "field status-field" }, h("label", { for: "ticket-status" }, t("Status")), status, picking ? snoozePicker(ticket) : null),
    field("ticket-priority", t("Priority"), priority),
    assigneeControl(ticket),
    field("ticket-team", t("Team"), team),
    tagsControl(ticket),
    resolve,
  );
}

function openSnooze(ticket) {
  snoozing = { ticketId: ticket.id, value: localInputValue(atNine(1)), error: "" };
  update();
  setTimeout(() => document.getElementById("snooze-preset-0")?.focus(), 0);
}

function closeSnooze() {
  snoozing = null;
  update();
  setTimeout(() => document.getElementById("ticket-status")?.focus(), 0);
}

async function snooze(ticket, until) {
  const changed = await changeTicket(ticket.id, { status: "snoozed", snoozed_until: until.toISOString() });
  if (changed && snoozing && snoozing.ticketId === ticket.id) closeSnooze();
}

/** Presets and a local date and time; Esc or Cancel keeps the status as it is. */
function snoozePicker(ticket) {
  const input = h("input", {
    type: "datetime-local",
    id: "snooze-at",
    value: snoozing.value,
    min: localInputValue(new Date()),
    "aria-describedby": "snooze-error",
    "aria-invalid": snoozing.error ? "true" : null,
    oninput: (event) => {
      snoozing.value = event.target.value;
    },
  });
  const custom = h(
    "form",
    {
      class: "snooze-custom",
      novalidate: true, // the message below says what is wrong, next to the input
      onsubmit: (event) => {
        event.preventDefault();
        const until = input.value ? new Date(input.value) : null; // no offset: local time
        if (!until || Number.isNaN(until.getTime()) || until.getTime() <= Date.now()) {
          snoozing.error = t("Pick a date and time in the future.");
          update();
          setTimeout(() => document.getElementById("snooze-at")?.focus(), 0);
          return;
        }
        snooze(ticket, until);
      },
    },
    field("snooze-at", t("Or until (your local time)"), input),
    h("button", { type: "submit", id: "snooze-submit" }, t("Snooze")),
  );
  return h(
    "div",
    {
      class: "snooze-picker",
      id: "snooze-picker",
      role: "group",
      "aria-labelledby": "snooze-title",
      onkeydown: (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          closeSnooze();
        }
      },
    },
    h("h3", { id: "snooze-title" }, t("Snooze until…")),
    h(
      "ul",
      { class: "snooze-presets" },
      snoozePresets().map(({ label, until }, i) =>
        h(
          "li",
          {},
          h("button", { type: "button", id: `snooze-preset-${i}`, onclick: () => snooze(ticket, snoozePresets()[i].until) }, h("span", {}, label), h("span", { class: "muted small" }, localTime(until))),
        ),
      ),
    ),
    custom,
    h("p", { class: "form-error", id: "snooze-error", role: "alert" }, snoozing.error),
    h("div", {}, h("button", { type: "button", id: "snooze-cancel", onclick: closeSnooze }, t("Cancel"))),
  );
}

function field(id, label, control) {
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

/** Everyone for supervisors and up; agents may take an unassigned ticket or release their
 * own, so that is all they are offered. */
function assigneeControl(ticket) {
  const me = state.me.user_id;
  let choices;
  if (can("assign_others")) {
    choices = [["", t("Unassigned")], ...state.members.filter((m) => m.active || m.user_id === ticket.assignee_id).map((m) => [m.user_id, m.user_id === me ? tf("{name} (me)", { name: m.name }) : m.name])];
  } else if (!ticket.assignee_id) {
    choices = [["", t("Unassigned")], [me, tf("{name} (me)", { name: state.me.name })]];
  } else if (ticket.assignee_id === me) {
    choices = [[me, tf("{name} (me)", { name: state.me.name })], ["", t("Unassigned")]];
  } else {
    return h("div", { class: "field" }, h("span", { class: "label" }, t("Assignee")), h("span", { class: "value", id: "ticket-assignee" }, memberName(ticket.assignee_id)));
  }
  const select = h(
    "select",
    { id: "ticket-assignee", onchange: (event) => changeTicket(ticket.id, { assignee_id: event.target.value || null }) },
    choices.map(([id, name]) => h("option", { value: id, selected: (ticket.assignee_id || "") === id }, name)),
  );
  return field("ticket-assignee", t("Assignee"), select);
}

function tagsControl(ticket) {
  const input = h("input", { id: "ticket-tag-input", placeholder: t("add tag"), size: 10, autocomplete: "off" });
  input.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const tag = input.value.trim().toLowerCase();
    if (tag && !ticket.tags.includes(tag)) changeTicket(ticket.id, { tags: [...ticket.tags, tag] });
    input.value = "";
  });
  return h(
    "div",
    { class: "field tags-field" },
    h("label", { for: "ticket-tag-input" }, t("Tags")),
    h(
      "span",
      { class: "tag-chips" },
      ticket.tags.map((tag) =>
        h(
          "span",
          { class: "tag" },
          tag,
          h("button", { type: "button", class: "tag-remove", "aria-label": tf("Remove tag {tag}", { tag }), onclick: () => changeTicket(ticket.id, { tags: ticket.tags.filter((t) => t !== tag) }) }, "×"),
        ),
      ),
      input,
    ),
  );
}

// Settings → Audit log: who did what to the workspace's members, teams, tokens and settings,
// newest first, narrowed by person, action and dates, a page at a time.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { t, tf } from "../i18n.js";
import { refusal, when } from "./settings_common.js";

const PAGE = 50;
const ACTIONS = [
  ["Members", "member.", [["member.invited", "Invited"], ["member.joined", "Joined"], ["member.updated", "Role or access changed"], ["member.invitation_revoked", "Invitation revoked"]]],
  ["Teams", "team.", [["team.created", "Team created"], ["team.renamed", "Team renamed"], ["team.members_set", "Team members set"], ["team.deleted", "Team deleted"]]],
  ["API tokens", "token.", [["token.created", "Token created"], ["token.revoked", "Token revoked"]]],
  ["Workspace", "workspace.", [["workspace.created", "Workspace created"], ["workspace.updated", "Settings changed"], ["workspace.widget_secret_rotated", "Widget secret rotated"]]],
  ["Contacts", "contact.", [["contact.deleted", "Contact deleted"]]],
];

/** The start of a local calendar day ("2030-01-15") as an ISO moment; `next` the day after. */
function dayStart(value, next = false) {
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + (next ? 1 : 0)).toISOString();
}

/** An event's data in words: lists as their items (member ids as names), objects as the keys
 * they set. */
function details(data, nameOf) {
  const shown = (v) => {
    if (Array.isArray(v)) return v.length ? v.map((x) => (/^[0-9a-f]{24}$/.test(x) ? nameOf(x) : String(x))).join(", ") : t("none");
    if (v && typeof v === "object") return Object.keys(v).filter((k) => v[k] !== null).join(", ") || t("none");
    return String(v);
  };
  return Object.entries(data || {})
    .filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${shown(v)}`)
    .join(" · ");
}

export function createAuditSection(root, { title, id }) {
  let members = [];
  let events = [];
  let more = false;
  let filters = {};

  const error = h("p", { class: "form-error", id: "audit-error", role: "alert" });
  const actor = h("select", { id: "audit-actor" });
  const action = h(
    "select",
    { id: "audit-action" },
    h("option", { value: "" }, t("Any action")),
    ACTIONS.map(([group, prefix, items]) =>
      h("optgroup", { label: t(group) }, h("option", { value: prefix }, tf("All: {group}", { group: t(group).toLowerCase() })), items.map(([value, label]) => h("option", { value }, t(label)))),
    ),
  );
  const from = h("input", { type: "date", id: "audit-from" });
  const to = h("input", { type: "date", id: "audit-to" });
  const form = h(
    "form",
    { class: "settings-form inline-fields", id: "audit-form", "aria-label": t("Filter the audit log"), novalidate: true },
    h("div", { class: "field" }, h("label", { for: "audit-actor" }, t("Who")), actor),
    h("div", { class: "field" }, h("label", { for: "audit-action" }, t("Action")), action),
    h("div", { class: "field" }, h("label", { for: "audit-from" }, t("From")), from),
    h("div", { class: "field" }, h("label", { for: "audit-to" }, t("To")), to),
    h("div", { class: "form-actions" }, h("button", { type: "submit", class: "primary", id: "audit-apply" }, t("Show")), h("button", { type: "button", id: "audit-reset", onclick: reset }, t("Reset"))),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  const summary = h("p", { class: "muted", id: "audit-summary", role: "status" });
  const table = h("div", { class: "table-scroll", id: "audit-table-host" });
  const moreButton = h("button", { type: "button", id: "audit-more", hidden: true, onclick: () => fetchPage(true) }, t("Load more"));
  mount(root, h("h3", { id }, title), h("p", { class: "muted" }, t("Sign-ups, invitations, role changes, teams, tokens and settings: who, what and when.")), form, error, summary, table, moreButton);

  function nameOf(userId) {
    if (!userId) return "Tandem";
    const m = members.find((x) => x.user_id === userId);
    return m ? m.name : t("Someone no longer here");
  }

  function label(value) {
    for (const [, , items] of ACTIONS) {
      const found = items.find(([v]) => v === value);
      if (found) return t(found[1]);
    }
    return value;
  }

  function draw() {
    summary.textContent = events.length
      ? tf(events.length === 1 ? (more ? "{n} event, more to load." : "{n} event.") : more ? "{n} events, more to load." : "{n} events.", { n: events.length })
      : t("No events match.");
    moreButton.hidden = !more;
    mount(
      table,
      events.length
        ? h(
            "table",
            { class: "settings-table stack", id: "audit-table" },
            h("caption", { class: "sr-only" }, t("Audit events")),
            h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Details"].map((c) => h("th", { scope: "col" }, t(c))))),
            h(
              "tbody",
              {},
              events.map((e) =>
                h(
                  "tr",
                  { dataset: { action: e.action } },
                  h("td", { class: "nowrap", dataset: { label: t("When") } }, when(e.at)),
                  h("td", { dataset: { label: t("Who") } }, nameOf(e.actor_id)),
                  h("td", { dataset: { label: t("Action") } }, label(e.action), h("span", { class: "muted small" }, ` ${e.action}`)),
                  h("td", { class: "wrap-anywhere", dataset: { label: t("Details") } }, details(e.data, nameOf)),
                ),
              ),
            ),
          )
        : null,
    );
  }

  function apply() {
    error.textContent = "";
    if (from.value && to.value && to.value < from.value) {
      error.textContent = t("The end date is before the start date.");
      to.focus();
      return;
    }
    filters = {
      actor: actor.value,
      action: action.value,
      since: from.value ? dayStart(from.value) : "",
      until: to.value ? dayStart(to.value, true) : "",
    };
    fetchPage(false);
  }

  function reset() {
    actor.value = "";
    action.value = "";
    from.value = "";
    to.value = "";
    apply();
  }

  async function fetchPage(next) {
    const before = next && events.length ? events[events.length - 1].id : "";
    moreButton.disabled = true;
    try {
      const page = await api.get(`/audit-events${api.query({ ...filters, before, limit: PAGE })}`);
      events = next ? [...events, ...page] : page;
      more = page.length === PAGE;
      draw();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the audit log"));
    } finally {
      moreButton.disabled = false;
    }
  }

  return {
    async load() {
      error.textContent = "";
      try {
        members = await api.get("/members");
      } catch {
        members = [];
      }
      const chosen = actor.value;
      mount(actor, h("option", { value: "" }, t("Anyone")), members.map((m) => h("option", { value: m.user_id, selected: m.user_id === chosen }, m.name)));
      apply();
    },
  };
}

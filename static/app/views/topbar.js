// The top bar: skip link, brand, workspace (name and slug), main navigation, connection
// banner, who is logged in, shortcuts and log out.

import { h } from "../dom.js";
import { state } from "../store.js";
import { toggleHelp } from "./help.js";

/** The header element; `parts` holds the nodes other code fills (nav, banner, me). */
export function renderTopbar({ nav, banner, me, list, onLogout }) {
  const ws = state.me.workspace;
  return h(
    "header",
    { class: "topbar" },
    h("a", { class: "skip", href: "#list-pane", onclick: (e) => { e.preventDefault(); list.querySelector("a")?.focus(); } }, "Skip to conversations"),
    h("span", { class: "brand" }, "Tandem"),
    h("span", { class: "workspace-name", title: `Workspace address: ${ws.slug}` }, ws.name, h("span", { class: "workspace-slug muted", id: "workspace-slug" }, ` (${ws.slug})`)),
    nav,
    banner,
    me,
    h("button", { type: "button", class: "ghost", onclick: toggleHelp, "aria-keyshortcuts": "?" }, "Shortcuts (?)"),
    h("button", { type: "button", class: "ghost", id: "logout", onclick: onLogout }, "Log out"),
  );
}

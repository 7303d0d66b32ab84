// The top bar: skip links, brand, workspace (name and slug), main navigation, connection
// banner, who is logged in, shortcuts and log out. Where they do not fit in one row (app.css
// says when) the navigation, who is logged in, shortcuts and log out fold into a menu (a
// disclosure button); on a phone a second button shows the views and filters, which have no
// column of their own there.

import { h } from "../dom.js";
import { state, subscribe } from "../store.js";
import { toggleHelp } from "./help.js";
import { t, tf } from "../i18n.js";

/** The header element; `parts` holds the nodes other code fills (nav, banner, me). */
export function renderTopbar({ nav, banner, me, list, onLogout }) {
  const ws = state.me.workspace;
  const menuButton = h(
    "button",
    { type: "button", class: "menu-button", id: "menu-button", "aria-expanded": "false", "aria-controls": "topbar-menu" },
    h("span", { class: "menu-icon", "aria-hidden": "true" }),
    t("Menu"),
  );
  const menu = h(
    "div",
    { class: "topbar-menu", id: "topbar-menu" },
    nav,
    me,
    h("p", { class: "menu-workspace", id: "menu-workspace" }, `${t("Workspace address")}: `, h("strong", {}, ws.slug)),
    h(
      "button",
      { type: "button", class: "ghost shortcuts-button", onclick: toggleHelp, "aria-keyshortcuts": "?", title: t("Shortcuts (?)") },
      h("span", { class: "label-long" }, t("Shortcuts (?)")),
      h("span", { class: "label-short", "aria-hidden": "true" }, "?"),
    ),
    h("button", { type: "button", class: "ghost", id: "logout", onclick: onLogout }, t("Log out")),
  );
  const filtersButton = h(
    "button",
    { type: "button", class: "filters-button", id: "filters-button", "aria-expanded": "false", "aria-controls": "sidebar" },
    t("Views"),
    h("span", { class: "sr-only" }, ` ${t("and filters")}`),
  );
  const header = h(
    "header",
    { class: "topbar" },
    h("a", { class: "skip", href: "#list-pane", onclick: (e) => { e.preventDefault(); list.querySelector("a")?.focus(); } }, t("Skip to conversations")),
    h("a", { class: "skip skip-ticket", href: "#thread", onclick: skipToConversation }, t("Skip to the conversation")),
    menuButton,
    menu,
    h("span", { class: "brand" }, "Tandem"),
    h("span", { class: "workspace-name", title: tf("{name} · workspace address: {slug}", { name: ws.name, slug: ws.slug }) }, ws.name, h("span", { class: "workspace-slug muted", id: "workspace-slug" }, ` (${ws.slug})`)),
    banner,
    filtersButton,
  );

  const expanded = (button) => button.getAttribute("aria-expanded") === "true";
  const setOpen = (button, open) => button.setAttribute("aria-expanded", open ? "true" : "false");
  menuButton.addEventListener("click", () => {
    setOpen(filtersButton, false);
    setOpen(menuButton, !expanded(menuButton));
  });
  filtersButton.addEventListener("click", () => {
    setOpen(menuButton, false);
    setOpen(filtersButton, !expanded(filtersButton));
  });
  // Following a link in the menu leaves it, as does Esc (back to the button that opened it).
  menu.addEventListener("click", (event) => {
    if (event.target.closest("a")) setOpen(menuButton, false);
  });
  const onKey = (event) => {
    if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
    for (const button of [menuButton, filtersButton]) {
      if (!expanded(button)) continue;
      event.preventDefault();
      setOpen(button, false);
      button.focus();
    }
  };
  // A tap elsewhere closes an open menu; choosing a view closes the views, as the list it
  // shows is what the person asked for.
  const onPointer = (event) => {
    const target = event.target;
    if (expanded(menuButton) && !header.contains(target)) setOpen(menuButton, false);
    if (expanded(filtersButton) && !filtersButton.contains(target)) {
      const panel = document.getElementById("sidebar")?.parentElement;
      if (!panel || !panel.contains(target)) setOpen(filtersButton, false);
    }
  };
  const onClick = (event) => {
    if (expanded(filtersButton) && event.target.closest("#sidebar .view-button")) setOpen(filtersButton, false);
  };
  // One header per session: its listeners go once a new one (after the next login) has
  // replaced it.
  let mounted = false;
  queueMicrotask(() => (mounted = header.isConnected));
  // A long name is cut short in the bar: the whole of it shows on hover.
  const unsubscribe = subscribe(() => {
    if (mounted && !header.isConnected) unsubscribe();
    else if (state.me) me.title = `${state.me.name} · ${t(state.me.role)}`;
  });
  // Taps are seen on the way down, before a view button redraws the sidebar.
  for (const [type, fn, capture] of [["keydown", onKey, false], ["pointerdown", onPointer, true], ["click", onClick, true]]) {
    document.addEventListener(type, function listener(event) {
      if (mounted && !header.isConnected) document.removeEventListener(type, listener, capture);
      else fn(event);
    }, capture);
  }
  return header;
}

/** Past the header and the list, to the open ticket's conversation. */
function skipToConversation(event) {
  event.preventDefault();
  const thread = document.getElementById("thread");
  if (thread) thread.focus();
}

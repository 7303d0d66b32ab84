// Workspace settings (#/settings/<section>), for admins and owners: a menu of sections, one
// shown at a time. Each section keeps its own DOM and reads the server when it is opened, so
// a redraw of the app (any state change) never touches what someone is typing.

import { h, mount } from "../dom.js";
import { can } from "../store.js";
import { t } from "../i18n.js";
import { createAuditSection } from "./settings_audit.js";
import { createHoursSection } from "./settings_hours.js";
import { createMembersSection } from "./settings_members.js";
import { createTeamsSection } from "./settings_teams.js";
import { createTokensSection } from "./settings_tokens.js";
import { createWidgetSection } from "./settings_widget.js";
import { createLifecycleSection } from "./settings_workspace_lifecycle.js";

const SECTIONS = [
  ["members", "Members", createMembersSection],
  ["teams", "Teams", createTeamsSection],
  ["widget", "Widget", createWidgetSection],
  ["hours", "Hours and time zone", createHoursSection],
  ["tokens", "API tokens", createTokensSection],
  ["audit", "Audit log", createAuditSection],
  ["workspace", "Export and cancel", createLifecycleSection],
];

export function createSettingsView(root) {
  let current = "members";
  let built = false;
  const links = {};
  const sections = {};
  const status = h("p", { class: "settings-status", id: "settings-status", role: "status", "aria-live": "polite" });
  const announce = (text) => {
    status.textContent = "";
    // A fresh text node each time, so the same words said twice are read twice.
    requestAnimationFrame(() => {
      status.textContent = text;
    });
  };

  function build() {
    const menu = h("ul", { class: "settings-menu-list" });
    const body = h("div", { class: "settings-body" });
    for (const [name, label, create] of SECTIONS) {
      links[name] = h("a", { href: `#/settings/${name}`, id: `settings-link-${name}` }, t(label));
      menu.append(h("li", {}, links[name]));
      const host = h("section", { class: "settings-section", id: `settings-${name}`, "aria-labelledby": `settings-${name}-title`, hidden: true });
      sections[name] = { host, view: create(host, { announce, title: t(label), id: `settings-${name}-title` }) };
      body.append(host);
    }
    mount(
      root,
      h(
        "div",
        { class: "settings-layout" },
        h("nav", { class: "settings-menu", "aria-label": t("Settings sections") }, h("h2", { id: "settings-heading" }, t("Settings")), menu),
        h("div", { class: "settings-main" }, status, body),
      ),
    );
    built = true;
  }

  function show() {
    for (const [name] of SECTIONS) {
      const on = name === current;
      sections[name].host.hidden = !on;
      if (on) links[name].setAttribute("aria-current", "page");
      else links[name].removeAttribute("aria-current");
    }
  }

  return {
    open(name) {
      if (!can("invite_members")) return;
      if (!built) build();
      current = SECTIONS.some(([n]) => n === name) ? name : "members";
      if (name !== current && location.hash.startsWith("#/settings")) {
        history.replaceState(null, "", `#/settings/${current}`);
      }
      status.textContent = "";
      show();
      sections[current].view.load();
    },
    render() {
      if (!can("invite_members")) {
        if (!root.querySelector("#settings-refused")) {
          mount(
            root,
            h("h2", {}, t("Settings")),
            h("p", { id: "settings-refused", role: "status" }, t("Workspace settings are for its admins and owner. Your own name, language and password are in your Profile.")),
            h("p", {}, h("a", { href: "#/profile" }, t("Open your profile"))),
          );
        }
        return;
      }
      if (!built) {
        build();
        show();
        sections[current].view.load();
      }
    },
  };
}

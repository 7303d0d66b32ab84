// Workspace settings (#/settings/<section>), for admins and owners.

import { h, mount } from "../dom.js";

export function createSettingsView(root) {
  let section = "members";
  return {
    open(name) {
      section = name || "members";
    },
    render() {
      mount(root, h("h2", {}, "Settings"), h("p", { class: "muted" }, section));
    },
  };
}

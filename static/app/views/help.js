// The keyboard shortcut help (press ?), as a modal dialog.

import { h } from "../dom.js";
import { t } from "../i18n.js";

export const SHORTCUTS = [
  ["j", "next ticket"],
  ["k", "previous ticket"],
  ["r", "reply"],
  ["n", "private note"],
  ["e", "resolve"],
  ["g i", "inbox"],
  ["g d", "dashboard (supervisors)"],
  ["g c", "canned responses (supervisors)"],
  ["Ctrl+Enter", "send"],
  ["Esc", "leave the composer / close this help"],
  ["?", "this help"],
];

let dialog = null;

export function toggleHelp() {
  if (!dialog) {
    dialog = h(
      "dialog",
      { class: "help", "aria-labelledby": "help-title" },
      h("h2", { id: "help-title" }, t("Keyboard shortcuts")),
      h("dl", { class: "shortcuts" }, SHORTCUTS.map(([keys, what]) => [h("dt", {}, h("kbd", {}, keys)), h("dd", {}, t(what))])),
      h("form", { method: "dialog" }, h("button", { type: "submit", class: "primary" }, t("Close"))),
    );
    document.body.appendChild(dialog);
  }
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

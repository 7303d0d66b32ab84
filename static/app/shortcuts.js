// Keyboard moves for the common things: j/k next/previous ticket, r reply, n note,
// e resolve, g i / g d / g c inbox / dashboard / canned responses, ? help. Ignored while typing in a field.

import { toggleHelp } from "./views/help.js";

export function installShortcuts(actions) {
  let pendingG = false;
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    const typing =
      target instanceof HTMLElement &&
      (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
    if (typing || document.querySelector("dialog[open]:not(.help)")) return;
    if (!actions.enabled()) return;
    const key = event.key;
    if (pendingG) {
      pendingG = false;
      if (key === "i") actions.go("#/inbox");
      if (key === "d") actions.go("#/dashboard");
      if (key === "c") actions.go("#/canned");
      return;
    }
    const handlers = {
      j: () => actions.move(1),
      k: () => actions.move(-1),
      r: () => actions.compose("message"),
      n: () => actions.compose("note"),
      e: () => actions.resolve(),
      "?": () => toggleHelp(),
      g: () => {
        pendingG = true;
        setTimeout(() => (pendingG = false), 1000);
      },
    };
    const handler = handlers[key];
    if (handler) {
      event.preventDefault();
      handler();
    }
  });
}

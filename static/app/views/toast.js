// Short notices in the corner: errors, and "Ana mentioned you" (clickable).

import { h } from "../dom.js";
import { t } from "../i18n.js";

function region() {
  let node = document.getElementById("toasts");
  if (!node) {
    node = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.appendChild(node);
  }
  return node;
}

export function toast(text, kind = "info", onOpen = null) {
  const close = h("button", { class: "toast-close", type: "button", "aria-label": t("Dismiss") }, "×");
  const body = onOpen
    ? h("button", { class: "toast-text", type: "button", onclick: () => { onOpen(); item.remove(); } }, text)
    : h("span", { class: "toast-text" }, text);
  const item = h("div", { class: `toast toast-${kind}` }, body, close);
  close.addEventListener("click", () => item.remove());
  region().appendChild(item);
  setTimeout(() => item.remove(), kind === "mention" ? 15_000 : 7_000);
  return item;
}

// What every settings section shares: copying a value, read-only fields with a Copy button,
// a two-step button for what cannot be undone, and the server's refusal in words.

import { h, mount } from "../dom.js";
import { copyText } from "../clipboard.js";
import { t, tf } from "../i18n.js";

export { copyText };

/**
 * A read-only value with its label and a Copy button (a textarea when `multiline`);
 * `announce(text)` says whether copying worked. `.set(value)` changes what it shows.
 */
export function copyField({ id, label, value = "", announce, multiline = false, note = "" }) {
  const input = multiline
    ? h("textarea", { id, class: "copy-value", readonly: true, rows: 4, spellcheck: "false", "aria-describedby": note ? `${id}-note` : null })
    : h("input", { id, class: "copy-value", readonly: true, spellcheck: "false", "aria-describedby": note ? `${id}-note` : null });
  input.value = value;
  input.addEventListener("focus", () => input.select());
  const button = h(
    "button",
    {
      type: "button",
      id: `${id}-copy`,
      "aria-label": tf("Copy {what}", { what: label.toLowerCase() }),
      onclick: async () => announce((await copyText(input.value, input)) ? tf("{what} copied.", { what: label }) : t("Could not copy: select the text and copy it yourself.")),
    },
    t("Copy"),
  );
  const node = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    h("div", { class: `copy-row${multiline ? " multiline" : ""}` }, input, button),
    note ? h("p", { class: "muted small", id: `${id}-note` }, note) : null,
  );
  return {
    node,
    input,
    set(text) {
      input.value = text;
    },
  };
}

/**
 * A button that asks before it acts: the first press shows `question` with "Yes" and "No";
 * "Yes" runs `act`. `text` is what it shows, `label` its full name (for a row's button). `id` names the first button; the confirming one is `${id}-confirm`.
 */
export function confirmButton({ id, label, text = label, question, yes, act, danger = true }) {
  const box = h("span", { class: "confirm-inline" });
  const ask = h("button", { type: "button", class: danger ? "danger" : null, id, "aria-label": text === label ? null : label }, text);
  const back = () => {
    mount(box, ask);
    ask.focus();
  };
  ask.addEventListener("click", () => {
    mount(
      box,
      h(
        "span",
        { role: "group", "aria-label": label, class: "confirm-question" },
        `${question} `,
        h("button", { type: "button", class: danger ? "danger" : "primary", id: `${id}-confirm`, onclick: () => act() }, yes),
        " ",
        h("button", { type: "button", id: `${id}-keep`, onclick: back }, t("No, keep it")),
      ),
    );
    document.getElementById(`${id}-confirm`)?.focus();
  });
  mount(box, ask);
  return box;
}

/** The server's refusal as a sentence for the person who asked. */
export function refusal(error, what) {
  if (error.status === 0) return tf("{what}: Tandem cannot be reached; check the connection.", { what });
  if (error.status === 403) return tf("{what}: not allowed — {reason}.", { what, reason: error.message });
  return `${what}: ${error.message}`;
}

/** A moment as a date and time in the viewer's zone. */
export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString([], { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export const ROLES = ["agent", "supervisor", "admin", "owner"];
const RANK = { agent: 0, supervisor: 1, admin: 2, owner: 3 };

/** The roles `granter` may hand out (the server applies the same rule). */
export function grantable(granter) {
  if (granter === "owner") return ROLES;
  return RANK[granter] >= RANK.admin ? ROLES.filter((r) => r !== "owner") : [];
}

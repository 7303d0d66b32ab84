// The reply / private-note composer: a `/shortcut` picker for canned responses, `@mention`
// picker in notes, typing signals (throttled), and the draft saved per ticket as you type.

import { h, mount } from "../dom.js";
import { loadDraft, saveDraft } from "../drafts.js";
import { sendMessage, sendSignal } from "../data.js";
import { state, subscribe } from "../store.js";
import { toast } from "./toast.js";

const TYPING_EVERY = 3_000;
const TYPING_IDLE = 4_000;

export function createComposer(ticketId) {
  const draft = loadDraft(ticketId);
  let kind = draft.kind;
  let typingSentAt = 0;
  let idleTimer = null;
  let picker = null; // {trigger: "/" | "@", start, items, index}
  let cannedSeen = state.canned;

  const text = h("textarea", {
    id: "composer-text",
    rows: 4,
    "aria-describedby": "composer-hint",
    "aria-autocomplete": "list",
    "aria-controls": "composer-picker",
  });
  text.value = draft.text;
  const label = h("label", { for: "composer-text", id: "composer-label" });
  const list = h("ul", { id: "composer-picker", class: "picker", role: "listbox", hidden: true, "aria-label": "Suggestions" });
  const replyRadio = h("input", { type: "radio", name: "composer-kind", id: "kind-message", value: "message" });
  const noteRadio = h("input", { type: "radio", name: "composer-kind", id: "kind-note", value: "note" });
  const send = h("button", { type: "submit", class: "primary", id: "composer-send" });
  const hint = h("p", { id: "composer-hint", class: "muted small" }, "Ctrl+Enter sends · / for canned responses · @name mentions a teammate in a note");
  const form = h(
    "form",
    { class: "composer", "aria-label": "Write a reply or a private note" },
    h(
      "fieldset",
      { class: "kind-toggle" },
      h("legend", { class: "sr-only" }, "Send as"),
      h("label", { for: "kind-message", class: "toggle" }, replyRadio, " Reply"),
      h("label", { for: "kind-note", class: "toggle" }, noteRadio, " Private note"),
    ),
    label,
    text,
    list,
    h("div", { class: "composer-actions" }, hint, send),
  );

  function setKind(next) {
    kind = next;
    replyRadio.checked = kind === "message";
    noteRadio.checked = kind === "note";
    form.classList.toggle("note-mode", kind === "note");
    label.textContent = kind === "note" ? "Private note (only your team sees it)" : "Reply to the customer";
    send.textContent = kind === "note" ? "Add note" : "Send reply";
    saveDraft(ticketId, { text: text.value, kind });
  }
  replyRadio.addEventListener("change", () => setKind("message"));
  noteRadio.addEventListener("change", () => setKind("note"));
  setKind(kind);

  function typing(on) {
    const now = Date.now();
    if (on && now - typingSentAt < TYPING_EVERY) return;
    typingSentAt = on ? now : 0;
    sendSignal({ type: "typing", ticket: ticketId, on });
  }

  text.addEventListener("input", () => {
    saveDraft(ticketId, { text: text.value, kind });
    if (text.value.trim()) {
      typing(true);
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => typing(false), TYPING_IDLE);
    }
    updatePicker();
  });

  function updatePicker() {
    const caret = text.selectionStart;
    const before = text.value.slice(0, caret);
    const match = /(^|\s)([/@])([\w.-]*)$/.exec(before);
    if (!match) return closePicker();
    const [, , trigger, word] = match;
    const needle = word.toLowerCase();
    let items;
    if (trigger === "/") {
      items = state.canned
        .filter((c) => c.shortcut.startsWith(needle) || (c.title || "").toLowerCase().includes(needle))
        .map((c) => ({ label: `/${c.shortcut}`, detail: c.title || c.body.slice(0, 60), insert: c.body }));
    } else {
      if (kind !== "note") return closePicker();
      items = state.members
        .filter((m) => m.active && m.user_id !== (state.me && state.me.user_id))
        .map((m) => ({ handle: m.email.split("@")[0].toLowerCase(), name: m.name }))
        .filter((m) => m.handle.startsWith(needle) || m.name.toLowerCase().startsWith(needle))
        .map((m) => ({ label: `@${m.handle}`, detail: m.name, insert: `@${m.handle} ` }));
    }
    if (!items.length) return closePicker();
    picker = { start: caret - word.length - 1, end: caret, items: items.slice(0, 8), index: 0 };
    drawPicker();
  }

  function drawPicker() {
    list.hidden = false;
    text.setAttribute("aria-expanded", "true");
    mount(
      list,
      picker.items.map((item, i) =>
        h(
          "li",
          {
            role: "option",
            id: `pick-${i}`,
            "aria-selected": i === picker.index ? "true" : "false",
            class: i === picker.index ? "active" : "",
            onmousedown: (event) => {
              event.preventDefault();
              choose(i);
            },
          },
          h("strong", {}, item.label),
          " ",
          h("span", { class: "muted" }, item.detail),
        ),
      ),
    );
    text.setAttribute("aria-activedescendant", `pick-${picker.index}`);
  }

  function closePicker() {
    picker = null;
    list.hidden = true;
    text.setAttribute("aria-expanded", "false");
    text.removeAttribute("aria-activedescendant");
  }

  function choose(i) {
    const item = picker.items[i];
    text.value = text.value.slice(0, picker.start) + item.insert + text.value.slice(picker.end);
    const caret = picker.start + item.insert.length;
    text.setSelectionRange(caret, caret);
    closePicker();
    saveDraft(ticketId, { text: text.value, kind });
    text.focus();
  }

  text.addEventListener("keydown", (event) => {
    if (picker) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        picker.index = (picker.index + step + picker.items.length) % picker.items.length;
        drawPicker();
        return;
      }
      if (event.key === "Enter" || event.key === "Tab") {
        event.preventDefault();
        choose(picker.index);
        return;
      }
      if (event.key === "Escape") {
        event.preventDefault();
        closePicker();
        return;
      }
    }
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    } else if (event.key === "Escape") {
      text.blur();
    }
  });
  text.addEventListener("blur", () => setTimeout(closePicker, 150));
  // The canned responses are refetched as a ticket opens: offer what arrives while typing.
  const unsubscribe = subscribe(() => {
    if (state.canned === cannedSeen) return;
    cannedSeen = state.canned;
    if (document.activeElement === text) updatePicker();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = text.value.trim();
    if (!body) return;
    send.disabled = true;
    try {
      await sendMessage(ticketId, body, kind);
      text.value = "";
      clearTimeout(idleTimer);
      typing(false);
    } catch (error) {
      if (error.status !== 401) toast(`Not sent: ${error.message}. Your text is kept.`, "error");
    } finally {
      send.disabled = false;
    }
  });

  return {
    element: form,
    ticketId,
    focus(nextKind) {
      if (nextKind) setKind(nextKind);
      text.focus();
    },
    setClosed(closed) {
      replyRadio.disabled = closed;
      if (closed && kind === "message") setKind("note");
    },
    dispose() {
      unsubscribe();
      clearTimeout(idleTimer);
      if (typingSentAt) typing(false);
    },
  };
}

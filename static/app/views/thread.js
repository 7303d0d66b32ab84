// The conversation: customer messages, replies, private notes and system lines, each drawn
// differently, all as text. Under a message's text, its files: images as thumbnails that open
// full size, other files as downloads, and a note for a file Tandem did not keep or is still
// fetching. With AI on, a customer's message can be translated into the agent's language.
// A long message shows its beginning, with "Show more" for the rest.

import { fileSize } from "../data.js";
import { h, mount, preservingFocus } from "../dom.js";
import { clock } from "../format.js";
import { translationFor } from "./ai.js";
import { t, tf } from "../i18n.js";

// The thread is drawn anew on every change: a file already shown keeps its element (by
// message and file), so an image does not load again or flicker.
const drawnFiles = new WeakMap(); // thread root → Map(key → element)
// Incoming emails opened in full (their own HTML, quoted history included), by message id.
const wholeEmails = new Set();
// The latest drawing of each thread root, for redraws asked for later (a translation arriving).
const latest = new WeakMap(); // thread root → arguments of renderThread
// Long messages opened in full, by message id.
const expanded = new Set();

// Over this many characters or lines a message is long: it would fill the thread and push the
// messages around it out of sight. Folded, it shows about a screenful of its beginning.
const LONG_CHARS = 1200;
const LONG_LINES = 20;
const FOLDED_CHARS = 700;
const FOLDED_LINES = 12;

/** The beginning of a long `text` (cut at a space where there is one), or null when `text`
 * is short enough to show whole. */
function foldedText(text) {
  const lines = text.split("\n");
  if (text.length <= LONG_CHARS && lines.length <= LONG_LINES) return null;
  let head = lines.slice(0, FOLDED_LINES).join("\n").slice(0, FOLDED_CHARS);
  const space = head.search(/\s\S*$/);
  if (space > FOLDED_CHARS / 2) head = head.slice(0, space);
  return `${head.trimEnd()}…`;
}

function redrawLatest(root) {
  const args = latest.get(root);
  if (args) renderThread(...args);
}

export function renderThread(root, messages, customerName = t("Customer"), channel = null) {
  const nearBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 80;
  if (messages === null) {
    mount(root, h("p", { class: "muted" }, t("Loading the conversation…")));
    return;
  }
  latest.set(root, [root, messages, customerName, channel]);
  const before = drawnFiles.get(root) || new Map();
  const files = { root, before, now: new Map(), email: channel === "email", redraw: () => redrawLatest(root) };
  preservingFocus(root, () =>
    mount(
      root,
      h("h3", { class: "sr-only" }, t("Conversation")),
      h("ol", { class: "thread-list" }, messages.map((m) => message(m, customerName, files))),
    ),
  );
  drawnFiles.set(root, files.now);
  if (nearBottom || root.dataset.drawn !== "yes") root.scrollTop = root.scrollHeight;
  root.dataset.drawn = "yes";
}

function message(m, customerName, files) {
  if (m.kind === "system") {
    return h("li", { class: "msg msg-system", dataset: { id: m.id } }, h("span", { class: "msg-text" }, m.text), " · ", h("time", { datetime: m.created_at || "" }, clock(m.created_at)));
  }
  const note = m.kind === "note";
  const incoming = m.direction === "in";
  const kind = note ? "msg-note" : incoming ? "msg-in" : "msg-out";
  const label = note ? t("Private note") : incoming ? t("Customer") : t("Reply");
  return h(
    "li",
    { class: `msg ${kind}`, dataset: { id: m.id } },
    h(
      "div",
      { class: "msg-meta" },
      h("span", { class: "msg-kind" }, label),
      authorName(m, incoming, customerName),
      h("time", { datetime: m.created_at || "" }, clock(m.created_at)),
      m.delivery_status && !incoming && !note
        ? h(
            "span",
            { class: m.delivery_status === "failed" ? "delivery-failed" : "muted" },
            m.delivery_status === "failed" ? tf("not delivered: {reason}", { reason: m.delivery_error || t("no reason given") }) : t(m.delivery_status),
          )
        : null,
    ),
    m.text || !(m.attachments && m.attachments.length) ? messageText(m, files) : null,
    incoming && !note ? translationFor(m, files.redraw) : null,
    files.email && incoming && !note && m.html ? wholeEmail(m, files.redraw) : null,
    m.attachments && m.attachments.length
      ? h("ul", { class: "msg-files", "aria-label": t("Files") }, m.attachments.map((a, i) => fileItem(m, a, i, files)))
      : null,
  );
}

function authorName(m, incoming, customerName) {
  const name = (m.author && m.author.name) || (incoming ? customerName : t("Agent"));
  return h("strong", { class: "msg-author", title: name }, name);
}

function messageText(m, files) {
  const text = m.text || "";
  const folded = foldedText(text);
  if (folded === null) return h("div", { class: "msg-text" }, text);
  const open = expanded.has(m.id);
  const id = `msg-text-${m.id}`;
  const toggle = h(
    "button",
    {
      type: "button",
      class: "link-button msg-more",
      id: `msg-more-${m.id}`,
      "aria-expanded": open ? "true" : "false",
      "aria-controls": id,
      onclick: (event) => {
        // The message stays where it was on screen: opening it does not jump to the end of
        // the thread, closing it does not leave the reader far below it.
        const item = event.currentTarget.closest(".msg");
        const before = item.getBoundingClientRect().top;
        if (open) expanded.delete(m.id);
        else expanded.add(m.id);
        files.redraw();
        const again = files.root.querySelector(`[data-id="${CSS.escape(m.id)}"]`);
        if (!again) return;
        files.root.scrollTop += again.getBoundingClientRect().top - before;
        if (open) again.querySelector(".msg-more")?.scrollIntoView({ block: "nearest" });
      },
    },
    open ? t("Show less") : tf("Show more ({n} characters)", { n: text.length.toLocaleString() }),
  );
  return [h("div", { class: `msg-text${open ? "" : " folded"}`, id }, open ? text : folded), toggle];
}

// The email as it was written, quoted history included: its HTML (sanitized by the server)
// in a frame with no scripts, no access to the app and nothing loaded from elsewhere.
function wholeEmail(m, redraw) {
  const open = wholeEmails.has(m.id);
  const toggle = h(
    "button",
    {
      type: "button",
      class: "link-button whole-email-toggle",
      "aria-expanded": open ? "true" : "false",
      onclick: () => {
        if (open) wholeEmails.delete(m.id);
        else wholeEmails.add(m.id);
        redraw();
      },
    },
    open ? t("Hide the whole email") : t("Show the whole email"),
  );
  if (!open) return h("div", { class: "whole-email" }, toggle);
  const page = `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"><base target="_blank"><style>body{font:14px/1.45 system-ui,sans-serif;margin:8px;color:#222}blockquote{margin:0 0 0 8px;padding-left:8px;border-left:3px solid #ccc;color:#555}</style>${m.html}`;
  const frame = h("iframe", { class: "whole-email-frame", title: t("The whole email"), sandbox: "allow-popups allow-popups-to-escape-sandbox", srcdoc: page });
  return h("div", { class: "whole-email" }, toggle, frame);
}

function fileItem(m, a, index, files) {
  const key = JSON.stringify([m.id, index, a.filename, a.size, a.url, a.inline, a.refused, a.pending]);
  let item = files.before.get(key);
  if (!item) item = h("li", { class: "msg-file" }, fileBody(a, files.root));
  files.now.set(key, item);
  return item;
}

function fileBody(a, root) {
  const name = a.filename || t("attachment");
  if (a.refused) return h("span", { class: "file-refused" }, tf("{name} was not kept: {reason}", { name, reason: a.refused }));
  if (a.pending) return h("span", { class: "file-pending" }, tf("Fetching {name}…", { name }));
  if (!a.url) return h("span", { class: "file-none" }, `${name} · ${fileSize(a.size)}`);
  if (a.inline) {
    const image = h("img", { src: a.url, alt: name, class: "file-thumb", decoding: "async" });
    // Keep a thread that was at its end there once the picture has its height.
    image.addEventListener("load", () => {
      const below = root.scrollHeight - root.scrollTop - root.clientHeight;
      if (below - image.offsetHeight < 80) root.scrollTop = root.scrollHeight;
    });
    return h(
      "a",
      { href: a.url, target: "_blank", rel: "noopener", class: "file-image", title: `${name} · ${fileSize(a.size)}`, "aria-label": tf("{name} (opens full size)", { name }) },
      image,
    );
  }
  return h("a", { href: a.url, download: name, class: "file-link" }, h("span", { class: "file-name" }, name), ` · ${fileSize(a.size)}`);
}

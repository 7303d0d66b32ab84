// The AI helpers, shown only when the workspace has AI switched on and a model key set:
// in the composer, a reply drafted by the model (streamed into the text as it is written,
// with the articles it was based on) and the reply translated into the customer's language;
// in the ticket pane, a summary of the thread; in the thread, a customer's message translated
// into the agent's language. Each answer is for the agent who asked only; Stop ends a
// streamed one (the model stops writing too).

import * as api from "../api.js";
import { ApiError } from "../api.js";
import { h, mount } from "../dom.js";
import { state, update } from "../store.js";
import { t, tf } from "../i18n.js";

const SETTINGS_FRESH = 60_000; // opening a ticket asks again after this long

let settings = null; // GET /ai/settings, once answered
let settingsAt = 0;
let settingsRequest = null;

/** Whether the AI buttons are offered (as last read; `refreshAi` reads it again). */
export function aiAvailable() {
  return Boolean(settings && settings.enabled && settings.api_key_set);
}

/** Read the AI settings again unless read recently; the views redraw when they change. */
export function refreshAi(force = false) {
  if (settingsRequest || (!force && Date.now() - settingsAt < SETTINGS_FRESH)) return settingsRequest;
  settingsRequest = api
    .get("/ai/settings")
    .then(
      (answer) => {
        const before = aiAvailable();
        settings = answer;
        if (aiAvailable() !== before) update();
      },
      (error) => {
        if (error.status !== 401) console.warn(error);
      },
    )
    .finally(() => {
      settingsAt = Date.now();
      settingsRequest = null;
    });
  return settingsRequest;
}

const money = (n) => (Number.isFinite(n) ? n.toFixed(2) : "?");

/** A refusal or failure in plain words. */
export function aiErrorText(error, what = "draft") {
  const details = error.details || {};
  switch (error.code) {
    case "credits_exhausted":
      return tf("This month's AI credits are used up ({spent} of {cap}).", { spent: money(details.spent), cap: money(details.cap) });
    case "ai_disabled":
      return t("AI is switched off in this workspace; an owner can switch it on.");
    case "ai_not_configured":
      return t("No AI model is set up yet; an owner can add its key in the AI settings.");
    case "nothing_to_answer":
      return what === "summary" ? t("There is nothing to summarize yet.") : t("There is no customer message to answer yet.");
    case "unreachable":
      return error.message;
    case "incomplete":
      return t("The answer was cut off; try again.");
    default:
      break;
  }
  if (error.status === 404) return t("This is not available: the ticket or message may be gone.");
  if (error.status === 401) return t("Your session has ended.");
  if (error.status === 0 || error.status >= 500 || !error.status) {
    return tf("The AI model did not answer: {reason}.", { reason: error.message || t("no reason given") });
  }
  const message = error.message || "the request failed";
  return message.charAt(0).toUpperCase() + message.slice(1) + (/[.!?]$/.test(message) ? "" : ".");
}

/** Stream a draft or summary of a ticket: `onText(piece)` as pieces arrive; resolves to the
 * `done` event's data ({sources, usage}). Rejects with an ApiError: a refusal, the model's
 * failure (`error` event), a cut-off answer, or `aborted` when `signal` stops it. */
export async function streamAi(ticketId, what, onText, signal) {
  let finished = null;
  let failed = null;
  await api.stream(
    `/tickets/${encodeURIComponent(ticketId)}/ai/${what}`,
    {},
    (event, data) => {
      if (event === "delta" && data && typeof data.text === "string") onText(data.text);
      else if (event === "done") finished = data || {};
      else if (event === "error") failed = new ApiError(502, (data && data.code) || "provider_error", (data && data.message) || "the model failed");
    },
    { signal },
  );
  if (failed) throw failed;
  if (!finished) throw new ApiError(0, "incomplete", "the answer was cut off");
  return finished;
}

/** The agent's language: the first part of the browser's ("pt-BR" → "pt"). */
/** What customers' messages are translated into: the profile's language, else the browser's. */
export function agentLanguage() {
  if (state.me && state.me.language) return state.me.language;
  return ((navigator.language || "en").split("-")[0] || "en").toLowerCase();
}

function sourceList(sources) {
  return sources.map((source, i) => [
    i ? ", " : "",
    source.url ? h("a", { href: source.url, target: "_blank", rel: "noopener" }, source.title) : h("span", {}, source.title),
  ]);
}

// ---- the composer --------------------------------------------------------------------------

/**
 * The composer's AI row for replies: "Draft with AI" (Stop while it streams) and "Translate to
 * customer's language" (with "Undo translation"), a status line and the draft's sources.
 * `text` is the reply's textarea; `changed()` runs after the helpers change its text.
 */
export function createComposerAi(ticketId, text, changed) {
  let controller = null;
  let original = null; // the text before a translation, to undo it
  let translating = 0;
  let shown = false;

  const status = h("p", { id: "composer-ai-status", class: "ai-status small", role: "status", "aria-live": "polite" });
  const sources = h("p", { id: "composer-ai-sources", class: "ai-sources small", hidden: true });
  const draft = h("button", { type: "button", id: "composer-ai-draft", class: "ai-button", onclick: () => startDraft() }, t("Draft with AI"));
  const stop = h("button", { type: "button", id: "composer-ai-stop", hidden: true, onclick: () => stopDraft() }, t("Stop"));
  const translate = h("button", { type: "button", id: "composer-ai-translate", class: "ai-button", onclick: () => translateReply() }, t("Translate to customer's language"));
  const undo = h("button", { type: "button", id: "composer-ai-undo", class: "link-button", hidden: true, onclick: () => undoTranslation() }, t("Undo translation"));
  const element = h(
    "div",
    { class: "composer-ai", id: "composer-ai", role: "group", "aria-label": t("AI help"), hidden: true },
    h("div", { class: "composer-ai-buttons" }, draft, stop, translate, undo),
    status,
    sources,
  );

  function say(words, kind = "") {
    status.textContent = words;
    status.classList.toggle("ai-error", kind === "error");
  }

  function busy(on) {
    draft.hidden = on;
    stop.hidden = !on;
    translate.disabled = on;
    text.readOnly = on;
    if (on) text.setAttribute("aria-busy", "true");
    else text.removeAttribute("aria-busy");
  }

  async function startDraft() {
    if (controller) return;
    const before = text.value.replace(/\s+$/, "");
    const prefix = before.trim() ? `${before}\n\n` : "";
    let written = "";
    original = null;
    undo.hidden = true;
    sources.hidden = true;
    sources.replaceChildren();
    controller = new AbortController();
    const mine = controller;
    busy(true);
    say(t("Drafting…"));
    stop.focus();
    try {
      const done = await streamAi(
        ticketId,
        "draft",
        (piece) => {
          written += piece;
          text.value = prefix + written;
          text.scrollTop = text.scrollHeight;
          changed();
        },
        mine.signal,
      );
      say(t("Draft ready: read it through before sending."));
      const found = (done.sources || []).filter((s) => s && s.title);
      if (found.length) {
        mount(sources, t("Based on: "), sourceList(found));
        sources.hidden = false;
      }
    } catch (error) {
      if (error.code === "aborted") say(written ? t("Stopped; the draft so far is kept.") : t("Stopped."));
      else say(aiErrorText(error, "draft"), "error");
    } finally {
      if (controller === mine) controller = null;
      busy(false);
      if (document.activeElement === stop || document.activeElement === document.body) text.focus();
    }
  }

  function stopDraft() {
    if (controller) controller.abort();
  }

  async function translateReply() {
    const current = text.value;
    if (!current.trim()) {
      say(t("Write the reply first, then translate it."), "error");
      text.focus();
      return;
    }
    const mine = ++translating;
    translate.disabled = true;
    draft.disabled = true;
    say(t("Translating…"));
    try {
      const answer = await api.post(`/tickets/${encodeURIComponent(ticketId)}/ai/translate-reply`, { text: current });
      if (mine !== translating) return;
      if (text.value !== current) {
        say(t("The reply changed while it was being translated; translate it again."), "error");
        return;
      }
      original = current;
      text.value = answer.text;
      changed();
      undo.hidden = false;
      say(answer.to ? tf("Translated to {language}.", { language: answer.to }) : t("Translated."));
    } catch (error) {
      if (mine === translating) say(aiErrorText(error, "translate"), "error");
    } finally {
      if (mine === translating) {
        translate.disabled = false;
        draft.disabled = false;
      }
    }
  }

  function undoTranslation() {
    if (original === null) return;
    text.value = original;
    original = null;
    undo.hidden = true;
    changed();
    say(t("Translation undone."));
    text.focus();
  }

  return {
    element,
    /** Offered for replies only, and only when AI is available. */
    show(on) {
      const next = Boolean(on) && aiAvailable();
      if (!next && controller) controller.abort();
      shown = next;
      element.hidden = !shown;
    },
    /** Whether a draft is being written into the reply (it is not sent meanwhile). */
    streaming: () => Boolean(controller),
    /** The reply went out: what was said about the last one goes. */
    sent() {
      original = null;
      undo.hidden = true;
      sources.hidden = true;
      sources.replaceChildren();
      say("");
    },
    dispose() {
      translating++;
      if (controller) controller.abort();
    },
  };
}

// ---- the ticket pane: a summary -------------------------------------------------------------

/** "Summarize" (for the ticket header) and the box it streams into, above the thread. */
export function createSummary(ticketId) {
  let controller = null;
  let written = "";

  const button = h("button", { type: "button", id: "ai-summarize", class: "ai-button", hidden: true, "aria-controls": "ai-summary", onclick: () => start() }, t("Summarize"));
  const body = h("div", { class: "ai-summary-text", id: "ai-summary-text" });
  const status = h("p", { class: "ai-status small", id: "ai-summary-status", role: "status", "aria-live": "polite" });
  const toggle = h("button", { type: "button", class: "ai-summary-toggle", id: "ai-summary-toggle", "aria-expanded": "true", "aria-controls": "ai-summary-body", onclick: () => collapse(toggle.getAttribute("aria-expanded") === "true") }, t("Summary"));
  const stop = h("button", { type: "button", id: "ai-summary-stop", hidden: true, onclick: () => controller && controller.abort() }, t("Stop"));
  const close = h("button", { type: "button", id: "ai-summary-close", class: "link-button", "aria-label": t("Close the summary"), onclick: () => hide() }, t("Close"));
  const inner = h("div", { id: "ai-summary-body" }, status, body);
  const box = h(
    "section",
    { class: "ai-summary", id: "ai-summary", "aria-label": t("Summary of the conversation"), hidden: true },
    h("div", { class: "ai-summary-head" }, toggle, h("span", { class: "ai-summary-actions" }, stop, close)),
    inner,
  );

  function collapse(on) {
    toggle.setAttribute("aria-expanded", on ? "false" : "true");
    inner.hidden = on;
  }

  function hide() {
    if (controller) controller.abort();
    box.hidden = true;
    button.focus();
  }

  async function start() {
    if (controller) return;
    written = "";
    body.textContent = "";
    box.hidden = false;
    collapse(false);
    controller = new AbortController();
    const mine = controller;
    button.disabled = true;
    stop.hidden = false;
    status.textContent = t("Summarizing…");
    status.classList.remove("ai-error");
    try {
      await streamAi(
        ticketId,
        "summary",
        (piece) => {
          written += piece;
          body.textContent = written;
        },
        mine.signal,
      );
      status.textContent = "";
    } catch (error) {
      if (error.code === "aborted") status.textContent = written ? t("Stopped.") : t("Stopped before any summary was written.");
      else {
        status.textContent = aiErrorText(error, "summary");
        status.classList.add("ai-error");
      }
    } finally {
      if (controller === mine) controller = null;
      button.disabled = false;
      stop.hidden = true;
      if (document.activeElement === stop || document.activeElement === document.body) toggle.focus();
    }
  }

  return {
    ticketId,
    button,
    box,
    /** Offered only when AI is available. */
    show(on) {
      const next = Boolean(on) && aiAvailable();
      button.hidden = !next;
      if (!next && !box.hidden) hide();
    },
    dispose() {
      if (controller) controller.abort();
    },
  };
}

// ---- the thread: a customer's message in the agent's language -------------------------------

// By message id: {state: "loading" | "done" | "error", text, from, error, original (shown)}.
const translations = new Map();

/** The "Translate" link under an incoming customer message, and its translation once asked
 * for (kept for the session, per message). `redraw()` draws the thread again. */
export function translationFor(m, redraw) {
  if (!aiAvailable() || !m.text || !m.text.trim()) return null;
  const entry = translations.get(m.id);
  const to = agentLanguage();
  if (!entry) {
    return h(
      "div",
      { class: "msg-translation" },
      h("button", { type: "button", class: "link-button msg-translate", id: `translate-${m.id}`, onclick: () => fetchTranslation(m, to, redraw) }, t("Translate")),
    );
  }
  if (entry.state === "loading") {
    return h("div", { class: "msg-translation" }, h("button", { type: "button", class: "link-button msg-translate", id: `translate-${m.id}`, "aria-disabled": "true" }, t("Translating…")));
  }
  if (entry.state === "error") {
    return h(
      "div",
      { class: "msg-translation" },
      h("span", { class: "ai-error small", role: "status" }, entry.error),
      " ",
      h("button", { type: "button", class: "link-button msg-translate", id: `translate-${m.id}`, onclick: () => fetchTranslation(m, to, redraw) }, t("Try again")),
    );
  }
  if (entry.original) {
    return h(
      "div",
      { class: "msg-translation" },
      h("button", { type: "button", class: "link-button msg-translate", id: `translate-${m.id}`, onclick: () => { entry.original = false; redraw(); } }, t("Show translation")),
    );
  }
  return h(
    "div",
    { class: "msg-translation msg-translated" },
    h("span", { class: "msg-translated-from small muted" }, entry.from ? tf("Translated from {language}:", { language: entry.from }) : t("Translated:")),
    " ",
    h("span", { class: "msg-translated-text", lang: entry.to || null }, entry.text),
    " ",
    h("button", { type: "button", class: "link-button msg-show-original", id: `translate-${m.id}`, onclick: () => { entry.original = true; redraw(); } }, t("Show original")),
  );
}

async function fetchTranslation(m, to, redraw) {
  const entry = { state: "loading" };
  translations.set(m.id, entry);
  redraw();
  try {
    const answer = await api.post(`/tickets/${encodeURIComponent(m.ticket_id)}/messages/${encodeURIComponent(m.id)}/translation`, { to });
    Object.assign(entry, { state: "done", text: answer.text, from: answer.source_language, to: answer.to || to, original: false });
  } catch (error) {
    Object.assign(entry, { state: "error", error: aiErrorText(error, "translate") });
  }
  if (translations.get(m.id) === entry) redraw();
}

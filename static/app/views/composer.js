// The reply / private-note composer: a `/shortcut` picker for canned responses, `@mention`
// picker in notes, typing signals (throttled), and the draft saved per ticket as you type.
// On WhatsApp it says until when free replies reach the customer; after 24 hours without a
// customer message it offers an approved template instead, with its parameters and a preview.
// Files (the Attach button, dropped on the composer, or an image pasted into the text) upload
// at once, each shown as a chip until the reply or note that carries them is sent.
// With AI on, a reply can be drafted by the model or translated into the customer's language
// (views/ai.js).

import { h, mount, preservingFocus } from "../dom.js";
import { loadDraft, saveDraft } from "../drafts.js";
import { MAX_FILES, fileSize, loadReplyOptions, sendMessage, sendSignal, uploadAttachment } from "../data.js";
import { localTime } from "../format.js";
import { state, subscribe } from "../store.js";
import { createComposerAi } from "./ai.js";
import { toast } from "./toast.js";
import { t, tf } from "../i18n.js";

const TYPING_EVERY = 3_000;
const TYPING_IDLE = 4_000;
const OPTIONS_FRESH = 15_000; // focusing the composer asks again after this long
const PLACEHOLDER = /\{\{\s*(\d+)\s*\}\}/g;

/** A template's body as the customer will read it: `{{n}}` replaced by the n-th parameter
 * (those not filled in yet stay as they are). */
export function fillTemplate(body, params) {
  return body.replace(PLACEHOLDER, (whole, n) => {
    const value = params[Number(n) - 1];
    return value && value.trim() ? value : whole;
  });
}

const templateKey = (t) => JSON.stringify([t.name, t.language]);

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
  const list = h("ul", { id: "composer-picker", class: "picker", role: "listbox", hidden: true, "aria-label": t("Suggestions") });
  const replyRadio = h("input", { type: "radio", name: "composer-kind", id: "kind-message", value: "message" });
  const noteRadio = h("input", { type: "radio", name: "composer-kind", id: "kind-note", value: "note" });
  const send = h("button", { type: "submit", class: "primary", id: "composer-send" });
  const hint = h("p", { id: "composer-hint", class: "muted small" }, t("Ctrl+Enter sends · / for canned responses · @name mentions a teammate in a note"));
  // WhatsApp: until when free replies go out, or why only a template can.
  const windowNote = h("p", { id: "composer-window", class: "muted small composer-window", hidden: true });
  const why = h("p", { id: "composer-why", class: "composer-why", role: "status", "aria-live": "polite" });
  const templatePanel = h("div", { class: "template-picker", id: "composer-template", hidden: true });
  const fileInput = h("input", { type: "file", multiple: true, id: "composer-file", hidden: true, tabindex: "-1", "aria-label": t("Files to attach") });
  const attach = h("button", { type: "button", id: "composer-attach", "aria-controls": "composer-files", onclick: () => fileInput.click() }, t("Attach"));
  const chips = h("ul", { id: "composer-files", class: "composer-files", "aria-label": t("Attached files"), hidden: true });
  // Answers for the customer's latest message (articles, canned responses), pushed live by
  // the server: Alt+1…Alt+5 (or a click) puts one into the reply at the caret.
  const suggestionPanel = h("div", { class: "suggestions", id: "composer-suggestions", hidden: true, role: "region", "aria-label": t("Suggested answers") });
  let suggestionsSeen = null;
  const ai = createComposerAi(ticketId, text, () => saveDraft(ticketId, { text: text.value, kind }));

  function suggestionText(item) {
    if (item.kind === "canned") return item.text;
    const passage = item.text.split("\n\n").slice(1).join("\n\n") || item.text;
    return item.url ? `${passage}\n\n${item.url}` : passage;
  }

  function insertSuggestion(item) {
    const piece = suggestionText(item);
    const start = text.selectionStart ?? text.value.length;
    const end = text.selectionEnd ?? start;
    const before = text.value.slice(0, start);
    const glue = before && !before.endsWith("\n") ? "\n" : "";
    text.value = before + glue + piece + text.value.slice(end);
    const caret = (before + glue + piece).length;
    text.setSelectionRange(caret, caret);
    saveDraft(ticketId, { text: text.value, kind });
    text.focus();
  }

  function drawSuggestions() {
    const open = state.open && state.open.id === ticketId ? state.open.suggestions : null;
    if (open === suggestionsSeen) return;
    suggestionsSeen = open;
    const items = (open && open.items) || [];
    suggestionPanel.hidden = !items.length;
    mount(
      suggestionPanel,
      items.length ? h("p", { class: "muted small" }, tf("Suggested answers (Alt+1…{n})", { n: Math.min(items.length, 5) })) : null,
      h(
        "ol",
        { class: "suggestion-list" },
        items.slice(0, 5).map((item, i) =>
          h(
            "li",
            {},
            h(
              "button",
              { type: "button", class: "suggestion", "aria-keyshortcuts": `Alt+${i + 1}`, title: item.text, onclick: () => insertSuggestion(item) },
              h("span", { class: `badge suggestion-${item.kind}` }, item.kind === "canned" ? t("canned") : t("article")),
              " ",
              item.title,
            ),
          ),
        ),
      ),
    );
  }

  const form = h(
    "form",
    { class: "composer", "aria-label": t("Write a reply or a private note") },
    h(
      "fieldset",
      { class: "kind-toggle" },
      h("legend", { class: "sr-only" }, t("Send as")),
      h("label", { for: "kind-message", class: "toggle" }, replyRadio, ` ${t("Reply")}`),
      h("label", { for: "kind-note", class: "toggle" }, noteRadio, ` ${t("Private note")}`),
    ),
    why,
    suggestionPanel,
    label,
    text,
    list,
    chips,
    templatePanel,
    ai.element,
    windowNote,
    fileInput,
    h("div", { class: "composer-actions" }, hint, h("div", { class: "composer-buttons" }, attach, send)),
  );

  // ---- WhatsApp: reply options ------------------------------------------------------------
  let options = null; // GET /tickets/{id}/reply-options, once answered
  let optionsAt = 0;
  let optionsRequest = 0;
  let optionsFor = undefined; // the ticket's last_customer_message_at the options were read at
  let windowTimer = null;
  let disposed = false;
  let chosen = ""; // templateKey of the chosen template
  let params = [];
  let drawnTemplates = null;

  const isWhatsApp = () => (state.tickets[ticketId] || {}).channel === "whatsapp";
  const templateOnly = () => Boolean(options && !options.free_text && kind === "message");

  async function refreshOptions() {
    if (!isWhatsApp() || disposed) return;
    const mine = ++optionsRequest;
    optionsFor = (state.tickets[ticketId] || {}).last_customer_message_at || null;
    optionsAt = Date.now();
    try {
      const answer = await loadReplyOptions(ticketId);
      if (disposed || mine !== optionsRequest) return;
      options = answer;
      scheduleWindowEnd();
      drawOptions();
    } catch (error) {
      if (error.status !== 401) console.warn(error);
    }
  }

  // The window closes on its own: ask again then, so the template picker shows without a reload.
  function scheduleWindowEnd() {
    clearTimeout(windowTimer);
    if (!options || !options.free_text || !options.window_closes_at) return;
    const wait = Date.parse(options.window_closes_at) - Date.now() + 1000;
    if (wait > 0 && wait < 2 ** 31 - 1) windowTimer = setTimeout(refreshOptions, wait);
  }

  function chosenTemplate() {
    return ((options && options.templates) || []).find((t) => templateKey(t) === chosen) || null;
  }

  function drawOptions() {
    const only = templateOnly();
    windowNote.hidden = !(options && options.free_text && options.window_closes_at && kind === "message");
    windowNote.textContent = windowNote.hidden ? "" : tf("WhatsApp: free replies until {time}", { time: localTime(options.window_closes_at) });
    const reason = only ? options.why || t("Only an approved WhatsApp template can be sent now.") : "";
    if (why.textContent !== reason) why.textContent = reason;
    text.hidden = only;
    label.hidden = only;
    attach.hidden = only;
    chips.hidden = only || !files.length;
    text.disabled = only;
    hint.hidden = only;
    templatePanel.hidden = !only;
    send.textContent = kind === "note" ? t("Add note") : only ? t("Send template") : t("Send reply");
    ai.show(kind === "message" && !only && !replyRadio.disabled);
    if (!only) return;
    const templates = options.templates || [];
    if (chosen && !chosenTemplate()) {
      chosen = "";
      params = [];
    }
    const key = JSON.stringify([templates, chosen]);
    if (key !== drawnTemplates) {
      drawnTemplates = key;
      preservingFocus(templatePanel, drawTemplatePanel);
    }
    drawPreview();
  }

  function drawTemplatePanel() {
    const templates = options.templates || [];
    if (!templates.length) {
      mount(templatePanel, h("p", { class: "form-error", id: "composer-no-templates" }, t("No approved templates yet: a workspace owner can sync them under Channels.")));
      return;
    }
    const select = h(
      "select",
      { id: "composer-template-select", onchange: (event) => chooseTemplate(event.target.value) },
      h("option", { value: "" }, t("Choose a template…")),
      templates.map((t) => h("option", { value: templateKey(t), selected: templateKey(t) === chosen }, `${t.name} (${t.language})`)),
    );
    const template = chosenTemplate();
    const fields = template
      ? Array.from({ length: template.param_count }, (_, i) => {
          const id = `composer-param-${i + 1}`;
          const input = h("input", {
            id,
            class: "template-param",
            autocomplete: "off",
            "aria-required": "true",
            value: params[i] || "",
            oninput: (event) => {
              params[i] = event.target.value;
              drawPreview();
            },
          });
          return h("div", { class: "field" }, h("label", { for: id }, tf("Parameter {{{n}}}", { n: i + 1 })), input);
        })
      : [];
    mount(
      templatePanel,
      h("div", { class: "field" }, h("label", { for: "composer-template-select" }, t("WhatsApp template")), select),
      fields.length ? h("div", { class: "template-params" }, fields) : null,
      template
        ? h(
            "div",
            { class: "template-preview-box" },
            h("span", { class: "label", id: "composer-preview-label" }, t("Preview")),
            h("p", { class: "template-preview", id: "composer-preview", "aria-labelledby": "composer-preview-label", "aria-live": "polite" }),
          )
        : null,
    );
  }

  function drawPreview() {
    const preview = templatePanel.querySelector("#composer-preview");
    const template = chosenTemplate();
    if (preview && template) preview.textContent = fillTemplate(template.body_text, params);
  }

  function chooseTemplate(key) {
    chosen = key;
    const template = chosenTemplate();
    params = template ? Array.from({ length: template.param_count }, (_, i) => params[i] || "") : [];
    drawOptions();
    document.getElementById(template && template.param_count ? "composer-param-1" : "composer-template-select")?.focus();
  }

  templatePanel.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    event.preventDefault(); // a plain Enter in a parameter does not send; Ctrl+Enter does
    if (event.ctrlKey || event.metaKey) form.requestSubmit();
  });
  form.addEventListener("focusin", () => {
    if (isWhatsApp() && Date.now() - optionsAt > OPTIONS_FRESH) refreshOptions();
  });

  // ---- files ------------------------------------------------------------------------------
  // Each: {key, name, size, state: "uploading" | "ready" | "error", progress, id, error,
  // controller, done (settles when the upload has)}.
  let files = [];
  let fileKeys = 0;
  let sending = false; // a Send may wait for uploads: a second Ctrl+Enter meanwhile is the same

  function addFiles(picked) {
    for (const file of picked) {
      if (files.filter((f) => f.state !== "error").length >= MAX_FILES) {
        toast(tf("At most {n} files a message.", { n: MAX_FILES }), "error");
        break;
      }
      const entry = { key: ++fileKeys, name: file.name || t("attachment"), size: file.size, state: "uploading", progress: 0, id: null, error: null, controller: new AbortController() };
      files.push(entry);
      entry.done = uploadAttachment(file, {
        signal: entry.controller.signal,
        onProgress: (fraction) => {
          entry.progress = fraction;
          drawProgress(entry);
        },
      }).then(
        (uploaded) => {
          Object.assign(entry, { state: "ready", id: uploaded.id, name: uploaded.filename, size: uploaded.size });
          drawFiles();
        },
        (error) => {
          if (error.code === "aborted") return;
          Object.assign(entry, { state: "error", error: error.message });
          drawFiles();
        },
      );
    }
    drawFiles();
  }

  function removeFile(entry) {
    entry.controller.abort();
    files = files.filter((f) => f !== entry);
    drawFiles();
    text.focus();
  }

  function drawFiles() {
    chips.hidden = templateOnly() || !files.length;
    preservingFocus(chips, () => mount(chips, files.map(chip)));
  }

  function chip(entry) {
    const percent = Math.round(entry.progress * 100);
    return h(
      "li",
      { class: `file-chip file-${entry.state}`, id: `composer-file-${entry.key}` },
      h("span", { class: "file-chip-name" }, entry.name),
      h("span", { class: "file-chip-size" }, fileSize(entry.size)),
      entry.state === "uploading"
        ? [h("progress", { max: 100, value: percent, "aria-label": tf("Uploading {name}", { name: entry.name }) }), h("span", { class: "file-chip-state" }, tf("Uploading… {percent}%", { percent }))]
        : null,
      entry.state === "error" ? h("span", { class: "file-chip-error", role: "alert" }, tf("Not attached: {reason}", { reason: entry.error })) : null,
      h("button", { type: "button", class: "file-chip-remove", id: `composer-file-remove-${entry.key}`, "aria-label": tf("Remove {name}", { name: entry.name }), onclick: () => removeFile(entry) }, "×"),
    );
  }

  function drawProgress(entry) {
    const item = chips.querySelector(`#composer-file-${entry.key}`);
    if (!item || entry.state !== "uploading") return;
    const percent = Math.round(entry.progress * 100);
    const bar = item.querySelector("progress");
    const words = item.querySelector(".file-chip-state");
    if (bar) bar.value = percent;
    if (words) words.textContent = tf("Uploading… {percent}%", { percent });
  }

  fileInput.addEventListener("change", () => {
    addFiles([...fileInput.files]);
    fileInput.value = "";
  });
  const carriesFiles = (event) => Boolean(event.dataTransfer) && [...event.dataTransfer.types].includes("Files");
  for (const type of ["dragenter", "dragover"]) {
    form.addEventListener(type, (event) => {
      if (!carriesFiles(event) || templateOnly()) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
      form.classList.add("dragging");
    });
  }
  form.addEventListener("dragleave", (event) => {
    if (!form.contains(event.relatedTarget)) form.classList.remove("dragging");
  });
  form.addEventListener("drop", (event) => {
    form.classList.remove("dragging");
    if (!event.dataTransfer || !event.dataTransfer.files.length || templateOnly()) return;
    event.preventDefault();
    addFiles([...event.dataTransfer.files]);
  });
  // A pasted screenshot becomes an attachment; text pasted along with an image stays text.
  text.addEventListener("paste", (event) => {
    const pasted = [...((event.clipboardData && event.clipboardData.files) || [])];
    if (!pasted.length) return;
    if (!event.clipboardData.getData("text/plain")) event.preventDefault();
    addFiles(pasted);
  });

  function setKind(next) {
    kind = next;
    replyRadio.checked = kind === "message";
    noteRadio.checked = kind === "note";
    form.classList.toggle("note-mode", kind === "note");
    label.textContent = kind === "note" ? t("Private note (only your team sees it)") : t("Reply to the customer");
    send.textContent = kind === "note" ? t("Add note") : t("Send reply");
    saveDraft(ticketId, { text: text.value, kind });
    drawOptions();
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
  // The customer writing again reopens WhatsApp's window: ask what may be sent then.
  form.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const n = Number(event.key);
    const items = (suggestionsSeen && suggestionsSeen.items) || [];
    if (n >= 1 && n <= Math.min(items.length, 5)) {
      event.preventDefault();
      insertSuggestion(items[n - 1]);
    }
  });
  const unsubscribe = subscribe(() => {
    drawSuggestions();
    ai.show(kind === "message" && !templateOnly() && !replyRadio.disabled);
    const ticket = state.tickets[ticketId];
    if (ticket && ticket.channel === "whatsapp" && optionsFor !== undefined && (ticket.last_customer_message_at || null) !== optionsFor) {
      refreshOptions();
    }
    if (state.canned === cannedSeen) return;
    cannedSeen = state.canned;
    if (document.activeElement === text) updatePicker();
  });
  refreshOptions();

  async function sendTemplate() {
    const template = chosenTemplate();
    if (!template) {
      toast(t("Choose a template to send."), "error");
      document.getElementById("composer-template-select")?.focus();
      return;
    }
    const values = params.slice(0, template.param_count).map((p) => (p || "").trim());
    const missing = values.findIndex((p) => !p);
    if (missing !== -1) {
      toast(tf("Fill in parameter {{{n}}} of the template.", { n: missing + 1 }), "error");
      document.getElementById(`composer-param-${missing + 1}`)?.focus();
      return;
    }
    send.disabled = true;
    try {
      await sendMessage(ticketId, null, "message", { name: template.name, language: template.language, params: values });
      chosen = "";
      params = [];
      drawnTemplates = null;
      drawOptions();
    } catch (error) {
      if (error.status !== 401) toast(tf("Not sent: {reason}.", { reason: error.message }), "error");
      if (error.status === 422) refreshOptions();
    } finally {
      send.disabled = false;
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (templateOnly()) {
      await sendTemplate();
      return;
    }
    if (sending || ai.streaming() || (!text.value.trim() && !files.length)) return;
    const offered = new Set(files); // the chips this Send is for
    sending = true;
    send.disabled = true;
    try {
      const uploading = files.filter((f) => offered.has(f) && f.state === "uploading");
      if (uploading.length) {
        send.setAttribute("aria-busy", "true");
        await Promise.all(uploading.map((f) => f.done));
      }
      const ready = files.filter((f) => offered.has(f) && f.state === "ready");
      const body = text.value.trim();
      if (!body && !ready.length) {
        if (files.length) toast(t("No file to send: remove the ones not attached, or attach others."), "error");
        return;
      }
      await sendMessage(ticketId, body, kind, null, ready.map((f) => f.id));
      text.value = "";
      if (kind === "message") ai.sent();
      files = files.filter((f) => !offered.has(f));
      drawFiles();
      clearTimeout(idleTimer);
      typing(false);
    } catch (error) {
      if (error.status !== 401) toast(tf("Not sent: {reason}. Your text is kept.", { reason: error.message }), "error");
      if (error.status === 422 && isWhatsApp()) refreshOptions(); // the window may have closed
    } finally {
      sending = false;
      send.disabled = false;
      send.removeAttribute("aria-busy");
    }
  });

  return {
    element: form,
    ticketId,
    focus(nextKind) {
      if (nextKind) setKind(nextKind);
      if (templateOnly()) (templatePanel.querySelector("select, input") || send).focus();
      else text.focus();
    },
    setClosed(closed) {
      replyRadio.disabled = closed;
      if (closed && kind === "message") setKind("note");
      ai.show(kind === "message" && !templateOnly() && !closed);
    },
    dispose() {
      disposed = true;
      ai.dispose();
      unsubscribe();
      clearTimeout(idleTimer);
      clearTimeout(windowTimer);
      for (const entry of files) entry.controller.abort();
      if (typingSentAt) typing(false);
    },
  };
}

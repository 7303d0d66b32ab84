// Knowledge base (#/kb, supervisors and up): the articles with filters and a keyword search,
// one editor that creates or changes an article, and after each save the article as the help
// center renders it. A save names the version the editor loaded; when someone else saved in
// between, the server refuses (409) and the editor says so, keeping the text typed here.
// The preview is the server's sanitized HTML in a sandboxed frame that runs no scripts.

import * as api from "../api.js";
import { ApiError } from "../api.js";
import { h, mount, preservingFocus } from "../dom.js";
import { can, memberName } from "../store.js";
import { t, tf } from "../i18n.js";

const FIELDS = ["title", "category", "locale", "status", "visibility", "slug", "body"];
const HINTS = {
  title: "Give a title of 1–200 characters.",
  category: "A category has at most 80 characters.",
  locale: "Use a language tag such as en or pt-BR.",
  status: "Pick draft or published.",
  visibility: "Pick public or internal.",
  slug: "Use lowercase words joined by - (at most 80 characters), or leave it empty.",
  body: "Write the article in markdown (at most 60,000 characters).",
};
const PREVIEW_STYLE = "body{font:15px/1.55 system-ui,sans-serif;margin:10px 14px;color:#1d2430}img{max-width:100%}pre{overflow:auto;background:#eef1f5;padding:8px;border-radius:6px}table{border-collapse:collapse}td,th{border:1px solid #d4d9e0;padding:3px 6px}blockquote{margin:0;padding-left:10px;border-left:3px solid #c9d0da;color:#4b5563}";

export function createKbView(root) {
  let items = null; // the listed articles, or null while loading
  let nextCursor = null;
  let editing = null; // the article in the editor as last loaded (with its version), or null
  let conflict = null; // the current article when a save was refused as stale
  let preview = null; // the saved article whose html the preview shows
  let confirming = null; // id whose delete waits for "Yes, delete"
  let drawnAllowed = null;
  const filters = { q: "", status: "", locale: "", category: "" };

  // ---- filters ----
  const search = h("input", { id: "kb-q", type: "search", placeholder: t("Search articles"), "aria-label": t("Search articles"), autocomplete: "off" });
  const statusFilter = h("select", { id: "kb-filter-status", "aria-label": t("Status") }, h("option", { value: "" }, t("Any status")), h("option", { value: "published" }, t("Published")), h("option", { value: "draft" }, t("Drafts")));
  const localeFilter = h("input", { id: "kb-filter-locale", placeholder: t("Locale"), "aria-label": t("Locale"), size: 6, autocomplete: "off" });
  const categoryFilter = h("input", { id: "kb-filter-category", placeholder: t("Category"), "aria-label": t("Category"), autocomplete: "off" });
  const filterForm = h(
    "form",
    { class: "kb-filters", id: "kb-filters", role: "search" },
    search, statusFilter, localeFilter, categoryFilter,
    h("button", { type: "submit" }, t("Filter")),
  );
  filterForm.addEventListener("submit", (event) => {
    event.preventDefault();
    Object.assign(filters, { q: search.value.trim(), status: statusFilter.value, locale: localeFilter.value.trim(), category: categoryFilter.value.trim() });
    load();
  });

  // ---- editor ----
  const heading = h("h3", { id: "kb-form-title" });
  const inputs = {
    title: h("input", { id: "kb-title", name: "title", autocomplete: "off", "aria-required": "true" }),
    category: h("input", { id: "kb-category", name: "category", autocomplete: "off" }),
    locale: h("input", { id: "kb-locale", name: "locale", autocomplete: "off", size: 8 }),
    status: h("select", { id: "kb-status", name: "status" }, h("option", { value: "draft" }, t("Draft")), h("option", { value: "published" }, t("Published"))),
    visibility: h("select", { id: "kb-visibility", name: "visibility" }, h("option", { value: "public" }, t("Public (help center, widget)")), h("option", { value: "internal" }, t("Internal (agents only)"))),
    slug: h("input", { id: "kb-slug", name: "slug", autocomplete: "off", spellcheck: "false", placeholder: t("made from the title") }),
    body: h("textarea", { id: "kb-body", name: "body", rows: 14, spellcheck: "true", "aria-required": "true" }),
  };
  const errors = {};
  for (const name of FIELDS) {
    errors[name] = h("p", { class: "form-error", id: `kb-${name}-error` });
    inputs[name].setAttribute("aria-describedby", `kb-${name}-error`);
  }
  const general = h("p", { class: "form-error", id: "kb-form-error", role: "alert" });
  const conflictBox = h("div", { class: "kb-conflict", id: "kb-conflict", role: "alert", hidden: true });
  const status = h("p", { class: "muted", id: "kb-status-line", role: "status", "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "primary", id: "kb-save" });
  const cancel = h("button", { type: "button", id: "kb-cancel", onclick: () => resetForm(true) }, t("New article"));
  const field = (name, label, input) => h("div", { class: `field kb-field-${name}` }, h("label", { for: `kb-${name}` }, label), input, errors[name]);
  const form = h(
    "form",
    { class: "canned-form kb-form", id: "kb-form", "aria-labelledby": "kb-form-title", novalidate: true },
    heading,
    field("title", t("Title"), inputs.title),
    h("div", { class: "kb-row" }, field("category", t("Category"), inputs.category), field("locale", t("Locale"), inputs.locale), field("status", t("Status"), inputs.status), field("visibility", t("Visibility"), inputs.visibility)),
    field("slug", t("Address in the help center (slug)"), inputs.slug),
    field("body", t("Body (markdown)"), inputs.body),
    conflictBox,
    general,
    h("div", { class: "form-actions" }, save, cancel),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  const previewSlot = h("section", { class: "kb-preview", id: "kb-preview", "aria-label": t("Preview"), hidden: true });
  const list = h("div", { class: "kb-list-slot" });
  const more = h("button", { type: "button", id: "kb-more", hidden: true, onclick: () => load(true) }, t("More articles"));
  const page = h(
    "div",
    { class: "canned-page-body kb-page-body" },
    h("h2", {}, t("Knowledge base")),
    h("p", { class: "muted" }, t("Published public articles appear in the help center and the widget; internal ones only to agents; drafts only here.")),
    filterForm,
    list,
    more,
    status,
    form,
    previewSlot,
  );
  const refusal = h("div", { class: "canned-page-body" }, h("h2", {}, t("Knowledge base")), h("p", { class: "form-error", role: "alert", id: "kb-refused" }, t("You are not allowed to manage the knowledge base; supervisors and admins can.")));
  resetForm(false);

  function clearErrors() {
    for (const name of FIELDS) {
      errors[name].textContent = "";
      inputs[name].removeAttribute("aria-invalid");
    }
    general.textContent = "";
  }

  function fill(article) {
    for (const name of FIELDS) inputs[name].value = article[name] ?? "";
  }

  function resetForm(focus) {
    editing = null;
    conflict = null;
    fill({ title: "", category: "", locale: "en", status: "draft", visibility: "public", slug: "", body: "" });
    clearErrors();
    heading.textContent = t("New article");
    save.textContent = t("Create");
    cancel.hidden = true;
    drawConflict();
    if (focus) inputs.title.focus();
  }

  async function edit(id) {
    confirming = null;
    try {
      const article = await api.get(`/kb/articles/${encodeURIComponent(id)}`);
      editing = article;
      conflict = null;
      fill(article);
      clearErrors();
      heading.textContent = tf("Edit “{title}” (version {version})", { title: article.title, version: article.version });
      save.textContent = t("Save changes");
      cancel.hidden = false;
      showPreview(article);
      drawConflict();
      drawList();
      inputs.title.focus();
    } catch (error) {
      if (error.status === 401) return;
      status.textContent = error.status === 404 ? t("That article was deleted.") : tf("Not loaded: {reason}", { reason: error.message });
      if (error.status === 404) load();
    }
  }

  function values() {
    const out = {};
    for (const name of FIELDS) out[name] = name === "body" ? inputs[name].value : inputs[name].value.trim();
    if (!out.slug) delete out.slug;
    return out;
  }

  function showError(error) {
    if (error instanceof ApiError && error.status === 401) return; // login takes over
    const name = error.details && error.details.field;
    if (!FIELDS.includes(name)) {
      general.textContent = error.status === 403 ? t("You are not allowed to manage the knowledge base.") : tf("Not saved: {reason}", { reason: error.message });
      return;
    }
    errors[name].textContent = error.code === "duplicate" ? t("Another article has this address: pick another slug.") : t(HINTS[name]);
    inputs[name].setAttribute("aria-invalid", "true");
    inputs[name].focus();
  }

  async function submit(overwrite = false) {
    clearErrors();
    const body = values();
    save.disabled = true;
    try {
      let saved;
      if (editing) {
        const version = overwrite && conflict ? conflict.version : editing.version;
        if (!body.slug) body.slug = editing.slug; // an emptied slug keeps the address
        saved = await api.patch(`/kb/articles/${encodeURIComponent(editing.id)}`, { ...body, version });
        status.textContent = tf("Saved “{title}” (version {version}).", { title: saved.title, version: saved.version });
      } else {
        saved = await api.post("/kb/articles", body);
        status.textContent = tf("Created “{title}” at /{slug}.", { title: saved.title, slug: saved.slug });
      }
      conflict = null;
      await edit(saved.id); // the editor now holds what was saved, and the preview shows it
      await load();
    } catch (error) {
      if (error.status === 409 && error.code === "stale_version" && error.details) {
        conflict = error.details.current;
        drawConflict();
      } else {
        showError(error);
        if (error.status === 404 && editing) {
          status.textContent = t("This article was deleted meanwhile; your text is still in the form.");
          editing = null;
          heading.textContent = t("New article (the one you edited was deleted)");
          save.textContent = t("Create");
          load();
        }
      }
    } finally {
      save.disabled = false;
    }
  }

  function drawConflict() {
    conflictBox.hidden = !conflict;
    if (!conflict) {
      mount(conflictBox);
      return;
    }
    const who = memberName(conflict.updated_by) || t("someone");
    mount(
      conflictBox,
      h("p", {}, h("strong", {}, `${t("Not saved: this article changed while you edited it.")} `), tf("Version {version} was saved by {who}; you started from version {mine}. Your text is still in the form.", { version: conflict.version, who, mine: editing ? editing.version : "?" })),
      h("p", {}, tf("Their title: “{title}”.", { title: conflict.title })),
      h(
        "div",
        { class: "form-actions" },
        h("button", { type: "button", id: "kb-conflict-theirs", onclick: () => { const current = conflict; conflict = null; editing = current; fill(current); heading.textContent = tf("Edit “{title}” (version {version})", { title: current.title, version: current.version }); showPreview(current); drawConflict(); inputs.title.focus(); } }, t("Discard mine, load theirs")),
        h("button", { type: "button", class: "danger", id: "kb-conflict-mine", onclick: () => submit(true) }, t("Save mine over theirs")),
      ),
    );
    document.getElementById("kb-conflict-theirs")?.focus();
  }

  function showPreview(article) {
    preview = article;
    previewSlot.hidden = false;
    const doc = `<!doctype html><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src https: data:; style-src 'unsafe-inline'"><base target="_blank"><style>${PREVIEW_STYLE}</style><h1>${escapeText(article.title)}</h1>${article.html}`;
    mount(
      previewSlot,
      h("h3", {}, tf("Preview — {status}, {visibility}, version {version}", { status: t(article.status), visibility: t(article.visibility), version: article.version })),
      h("iframe", { class: "kb-preview-frame", title: tf("Preview of {title}", { title: article.title }), sandbox: "allow-popups allow-popups-to-escape-sandbox", srcdoc: doc }),
    );
  }

  async function remove(article) {
    try {
      await api.del(`/kb/articles/${encodeURIComponent(article.id)}`);
      status.textContent = tf("Deleted “{title}”.", { title: article.title });
    } catch (error) {
      if (error.status === 401) return;
      status.textContent = error.status === 404 ? tf("“{title}” was already deleted.", { title: article.title }) : tf("Not deleted: {reason}", { reason: error.message });
    }
    confirming = null;
    if (editing && editing.id === article.id) resetForm(false);
    if (preview && preview.id === article.id) {
      preview = null;
      previewSlot.hidden = true;
    }
    await load();
  }

  async function load(append = false) {
    const params = { ...filters, limit: 50, cursor: append ? nextCursor : null };
    try {
      const page = await api.get(`/kb/articles${api.query(params)}`);
      items = append && items ? [...items, ...page.items] : page.items;
      nextCursor = page.next_cursor;
    } catch (error) {
      if (error.status === 401) return;
      status.textContent = tf("Articles not loaded: {reason}", { reason: error.message });
      items = items || [];
    }
    drawList();
  }

  function row(article) {
    const actions =
      confirming === article.id
        ? [
            h("span", { class: "confirm-text" }, t("Delete it?")),
            " ",
            h("button", { type: "button", class: "danger", id: `kb-confirm-${article.id}`, onclick: () => remove(article) }, t("Yes, delete")),
            " ",
            h("button", { type: "button", id: `kb-keep-${article.id}`, onclick: () => { confirming = null; drawList(); document.getElementById(`kb-delete-${article.id}`)?.focus(); } }, t("Keep")),
          ]
        : [
            h("button", { type: "button", id: `kb-edit-${article.id}`, "aria-label": tf("Edit {name}", { name: article.title }), onclick: () => edit(article.id) }, t("Edit")),
            " ",
            h("button", { type: "button", id: `kb-delete-${article.id}`, "aria-label": tf("Delete {name}", { name: article.title }), onclick: () => { confirming = article.id; drawList(); document.getElementById(`kb-confirm-${article.id}`)?.focus(); } }, t("Delete")),
          ];
    return h(
      "tr",
      { id: `kb-row-${article.id}`, class: editing && editing.id === article.id ? "editing" : null },
      h("th", { scope: "row" }, article.title, h("div", { class: "muted kb-slug" }, `/${article.slug}`)),
      h("td", {}, article.category || "—"),
      h("td", {}, article.locale),
      h("td", {}, h("span", { class: `kb-badge kb-${article.status}` }, t(article.status)), " ", h("span", { class: `kb-badge kb-${article.visibility}` }, t(article.visibility))),
      h("td", { class: "canned-actions" }, actions),
    );
  }

  function drawList() {
    more.hidden = !nextCursor;
    preservingFocus(list, () =>
      mount(
        list,
        items === null
          ? h("p", { class: "muted" }, t("Loading articles…"))
          : items.length
            ? h(
                "table",
                { class: "canned-table kb-table", id: "kb-list" },
                h("caption", { class: "sr-only" }, t("Articles")),
                h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Title")), h("th", { scope: "col" }, t("Category")), h("th", { scope: "col" }, t("Locale")), h("th", { scope: "col" }, t("State")), h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("Actions"))))),
                h("tbody", {}, items.map(row)),
              )
            : h("p", { class: "muted", id: "kb-empty" }, filters.q || filters.status || filters.locale || filters.category ? t("No articles match.") : t("No articles yet.")),
      ),
    );
  }

  function render() {
    const allowed = can("manage_kb");
    if (allowed !== drawnAllowed) {
      drawnAllowed = allowed;
      mount(root, allowed ? page : refusal);
    }
  }

  /** Entering the screen: the list is read again (others may have written meanwhile). */
  function open() {
    render();
    if (can("manage_kb")) load();
  }

  return { render, open };
}

function escapeText(text) {
  const span = document.createElement("span");
  span.textContent = text;
  return span.innerHTML;
}

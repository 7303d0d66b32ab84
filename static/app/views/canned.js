// Canned responses (#/canned, supervisors and up): the list with shortcut and body, one form
// that creates or edits, delete with a confirmation in the row. The server judges the input;
// its answer shows next to the field it is about.

import * as api from "../api.js";
import { ApiError } from "../api.js";
import { refreshCanned } from "../data.js";
import { h, mount, preservingFocus } from "../dom.js";
import { can, state } from "../store.js";
import { t, tf } from "../i18n.js";

const FIELDS = ["shortcut", "title", "body"];
const HINTS = {
  shortcut: "Use 1–40 lowercase letters, digits, - or _, starting with a letter or digit.",
  title: "A title has at most 200 characters.",
  body: "Write the response (at most 20,000 characters).",
};

export function createCannedView(root) {
  let editing = null; // the canned response in the form, or null for a new one
  let confirming = null; // id whose delete waits for "Yes, delete"
  let drawnKey = null;
  let drawnAllowed = null;

  const heading = h("h3", { id: "canned-form-title" });
  const inputs = {
    shortcut: h("input", { id: "canned-shortcut", name: "shortcut", autocomplete: "off", spellcheck: "false", "aria-required": "true" }),
    title: h("input", { id: "canned-title", name: "title", autocomplete: "off" }),
    body: h("textarea", { id: "canned-body", name: "body", rows: 5, "aria-required": "true" }),
  };
  const errors = {};
  for (const name of FIELDS) {
    errors[name] = h("p", { class: "form-error", id: `canned-${name}-error` });
    inputs[name].setAttribute("aria-describedby", `canned-${name}-error`);
  }
  const general = h("p", { class: "form-error", id: "canned-form-error", role: "alert" });
  const status = h("p", { class: "muted", id: "canned-status", role: "status", "aria-live": "polite" });
  const save = h("button", { type: "submit", class: "primary", id: "canned-save" });
  const cancel = h("button", { type: "button", id: "canned-cancel", onclick: () => resetForm(true) }, t("Cancel"));
  const form = h(
    "form",
    { class: "canned-form", id: "canned-form", "aria-labelledby": "canned-form-title", novalidate: true },
    heading,
    h("div", { class: "field" }, h("label", { for: "canned-shortcut" }, t("Shortcut (typed after / in the composer)")), h("span", { class: "slash-input" }, h("span", { "aria-hidden": "true" }, "/"), inputs.shortcut), errors.shortcut),
    h("div", { class: "field" }, h("label", { for: "canned-title" }, t("Title (optional)")), inputs.title, errors.title),
    h("div", { class: "field" }, h("label", { for: "canned-body" }, t("Body")), inputs.body, errors.body),
    general,
    h("div", { class: "form-actions" }, save, cancel),
  );
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && editing) {
      event.preventDefault();
      resetForm(true);
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  const list = h("div", { class: "canned-list-slot" });
  const page = h("div", { class: "canned-page-body" }, h("h2", {}, t("Canned responses")), h("p", { class: "muted" }, t("Agents insert these by typing /shortcut in the composer.")), form, status, list);
  const refusal = h("div", { class: "canned-page-body" }, h("h2", {}, t("Canned responses")), h("p", { class: "form-error", role: "alert", id: "canned-refused" }, t("You are not allowed to manage canned responses; supervisors and admins can.")));
  resetForm(false);

  function clearErrors() {
    for (const name of FIELDS) {
      errors[name].textContent = "";
      inputs[name].removeAttribute("aria-invalid");
    }
    general.textContent = "";
  }

  function resetForm(focus) {
    editing = null;
    for (const name of FIELDS) inputs[name].value = "";
    clearErrors();
    heading.textContent = t("New canned response");
    save.textContent = t("Create");
    cancel.hidden = true;
    drawnKey = null;
    render();
    if (focus) inputs.shortcut.focus();
  }

  function edit(canned) {
    editing = canned;
    confirming = null;
    inputs.shortcut.value = canned.shortcut;
    inputs.title.value = canned.title || "";
    inputs.body.value = canned.body;
    clearErrors();
    heading.textContent = tf("Edit {name}", { name: `/${canned.shortcut}` });
    save.textContent = t("Save changes");
    cancel.hidden = false;
    drawnKey = null;
    render();
    inputs.shortcut.focus();
  }

  function showError(error, shortcut) {
    if (error instanceof ApiError && error.status === 401) return; // login takes over
    let name = error.code === "duplicate" ? "shortcut" : error.details && error.details.field;
    if (!FIELDS.includes(name)) name = null;
    if (!name) {
      general.textContent = error.status === 403 ? t("You are not allowed to manage canned responses.") : tf("Not saved: {reason}", { reason: error.message });
      return;
    }
    errors[name].textContent = error.code === "duplicate" ? tf("/{shortcut} is taken: pick another shortcut.", { shortcut }) : t(HINTS[name]);
    inputs[name].setAttribute("aria-invalid", "true");
    inputs[name].focus();
  }

  async function submit() {
    clearErrors();
    const values = {
      shortcut: inputs.shortcut.value.trim().replace(/^\//, ""),
      title: inputs.title.value.trim(),
      body: inputs.body.value,
    };
    save.disabled = true;
    try {
      if (editing) {
        await api.patch(`/canned-responses/${encodeURIComponent(editing.id)}`, values);
        status.textContent = tf("Saved /{shortcut}.", { shortcut: values.shortcut });
      } else {
        await api.post("/canned-responses", values);
        status.textContent = tf("Created /{shortcut}.", { shortcut: values.shortcut });
      }
      await refreshCanned();
      resetForm(true);
    } catch (error) {
      showError(error, values.shortcut);
      if (error.status === 404) await refreshCanned(); // deleted meanwhile
    } finally {
      save.disabled = false;
    }
  }

  async function remove(canned) {
    try {
      await api.del(`/canned-responses/${encodeURIComponent(canned.id)}`);
      status.textContent = tf("Deleted /{shortcut}.", { shortcut: canned.shortcut });
    } catch (error) {
      if (error.status === 401) return;
      status.textContent = error.status === 404 ? tf("/{shortcut} was already deleted.", { shortcut: canned.shortcut }) : tf("Not deleted: {reason}", { reason: error.message });
    }
    confirming = null;
    if (editing && editing.id === canned.id) resetForm(false);
    await refreshCanned();
    drawnKey = null;
    render();
    inputs.shortcut.focus();
  }

  function row(canned) {
    const label = `/${canned.shortcut}`;
    const actions =
      confirming === canned.id
        ? [
            h("span", { class: "confirm-text" }, tf("Delete {name}?", { name: label })),
            " ",
            h("button", { type: "button", class: "danger", id: `canned-confirm-${canned.id}`, onclick: () => remove(canned) }, t("Yes, delete")),
            " ",
            h("button", { type: "button", id: `canned-keep-${canned.id}`, onclick: () => { confirming = null; drawnKey = null; render(); document.getElementById(`canned-delete-${canned.id}`)?.focus(); } }, t("Keep")),
          ]
        : [
            h("button", { type: "button", id: `canned-edit-${canned.id}`, "aria-label": tf("Edit {name}", { name: label }), onclick: () => edit(canned) }, t("Edit")),
            " ",
            h("button", { type: "button", id: `canned-delete-${canned.id}`, "aria-label": tf("Delete {name}", { name: label }), onclick: () => { confirming = canned.id; drawnKey = null; render(); document.getElementById(`canned-confirm-${canned.id}`)?.focus(); } }, t("Delete")),
          ];
    return h(
      "tr",
      { id: `canned-row-${canned.id}`, class: editing && editing.id === canned.id ? "editing" : null },
      h("th", { scope: "row", class: "canned-shortcut" }, label),
      h("td", {}, canned.title || ""),
      h("td", { class: "canned-body" }, canned.body),
      h("td", { class: "canned-actions" }, actions),
    );
  }

  function render() {
    const allowed = can("manage_canned");
    if (allowed !== drawnAllowed) {
      drawnAllowed = allowed;
      mount(root, allowed ? page : refusal);
      drawnKey = null;
    }
    if (!allowed) return;
    const key = `${JSON.stringify(state.canned)}:${editing && editing.id}:${confirming}`;
    if (key === drawnKey) return;
    drawnKey = key;
    const items = state.canned || [];
    preservingFocus(list, () =>
      mount(
        list,
        items.length
          ? h(
              "table",
              { class: "canned-table", id: "canned-list" },
              h("caption", { class: "sr-only" }, t("Canned responses")),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Shortcut")), h("th", { scope: "col" }, t("Title")), h("th", { scope: "col" }, t("Body")), h("th", { scope: "col" }, h("span", { class: "sr-only" }, t("Actions"))))),
              h("tbody", {}, items.map(row)),
            )
          : h("p", { class: "muted", id: "canned-empty" }, t("No canned responses yet.")),
      ),
    );
  }

  return { render };
}

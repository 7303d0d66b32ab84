// The centred form that stands before the app (log in, sign up, join from an invitation,
// reset a password): labelled fields, an alert line, one submit button that is disabled while
// the request runs, and links to the other forms below it.

import { h, mount } from "../dom.js";

/**
 * cardForm(root, {id, title, intro, fields: [[label, input, hint?]], submitLabel, message,
 *                 notice, links: [[text, href]], submit: async () => {},
 *                 explain: (failure) => text, focus: input})
 * `submit` throws to report a failure; `explain` turns it into the alert text. `submit` may
 * return a text to show as a notice in place of the form's fields (a link was emailed).
 */
export function cardForm(root, { id, title, intro, fields, submitLabel, message, notice, links = [], submit, explain, focus }) {
  const error = h("p", { class: "form-error", id: `${id}-error`, role: "alert" }, message || "");
  const status = h("p", { class: "form-notice", id: `${id}-notice`, role: "status" }, notice || "");
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const rows = fields.map(([label, input, hint]) => {
    if (hint) input.setAttribute("aria-describedby", `${input.id}-hint`);
    return [h("label", { for: input.id }, label), input, hint ? h("p", { class: "field-hint", id: `${input.id}-hint` }, hint) : null];
  });
  const form = h(
    "form",
    { class: "login-card", id: `${id}-form`, "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-error` },
    h("h1", { id: `${id}-title` }, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    status,
    rows,
    error,
    button,
    links.length ? h("ul", { class: "card-links" }, links.map(([text, href]) => h("li", {}, h("a", { href }, text)))) : null,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      const said = await submit();
      if (typeof said === "string") {
        status.textContent = said;
        for (const node of form.querySelectorAll("label, input, select, .field-hint")) node.hidden = true;
        button.hidden = true;
      }
    } catch (failure) {
      error.textContent = explain(failure);
      button.disabled = false;
    }
  });
  mount(root, h("main", { class: "login-page" }, form));
  focus?.focus();
}

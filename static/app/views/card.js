// The centred form that stands before the app (log in, join from an invitation): labelled
// fields, an alert line, one submit button that is disabled while the request runs.

import { h, mount } from "../dom.js";

/**
 * cardForm(root, {id, title, intro, fields: [[label, input]], submitLabel, message,
 *                 submit: async () => {}, explain: (failure) => text, focus: input})
 * `submit` throws to report a failure; `explain` turns it into the alert text.
 */
export function cardForm(root, { id, title, intro, fields, submitLabel, message, submit, explain, focus }) {
  const error = h("p", { class: "form-error", id: `${id}-error`, role: "alert" }, message || "");
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const form = h(
    "form",
    { class: "login-card", "aria-labelledby": `${id}-title`, "aria-describedby": `${id}-error` },
    h("h1", { id: `${id}-title` }, title),
    h("p", { class: "muted" }, intro),
    fields.map(([label, input]) => [h("label", { for: input.id }, label), input]),
    error,
    button,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    error.textContent = "";
    try {
      await submit();
    } catch (failure) {
      error.textContent = explain(failure);
      button.disabled = false;
    }
  });
  mount(root, h("main", { class: "login-page" }, form));
  focus.focus();
}

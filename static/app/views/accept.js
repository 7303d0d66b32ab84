// Accepting an invitation (the link an admin sends: /app/#/accept/<token>): choose a
// password, optionally a display name, and you are logged in.

import * as api from "../api.js";
import { h, mount } from "../dom.js";

export function renderAccept(root, token, onJoined) {
  const error = h("p", { class: "form-error", id: "accept-error", role: "alert" });
  const name = h("input", { id: "accept-name", name: "name", autocomplete: "name" });
  const password = h("input", {
    id: "accept-password", name: "password", type: "password", required: true,
    autocomplete: "new-password", minlength: 8,
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Join the workspace");
  const form = h(
    "form",
    { class: "login-card", "aria-labelledby": "accept-title", "aria-describedby": "accept-error" },
    h("h1", { id: "accept-title" }, "Join Tandem"),
    h("p", { class: "muted" }, "You were invited to a team inbox. Choose a password to join."),
    h("label", { for: "accept-name" }, "Your name (optional)"),
    name,
    h("label", { for: "accept-password" }, "Password"),
    password,
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      const body = { token, password: password.value };
      if (name.value.trim()) body.name = name.value.trim();
      const answer = await api.post("/invitations/accept", body);
      api.setCsrf(answer.csrf_token);
      location.hash = "#/inbox";
      await onJoined();
    } catch (failure) {
      error.textContent =
        failure.status === 404 ? "This invitation is unknown or has expired." : failure.message;
      submit.disabled = false;
    }
  });
  mount(root, h("main", { class: "login-page" }, form));
  password.focus();
}

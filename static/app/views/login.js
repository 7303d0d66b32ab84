// The login form. Remembers the workspace and email of the last login on this browser.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { state } from "../store.js";

export function renderLogin(root, onLoggedIn) {
  const remembered = JSON.parse(localStorage.getItem("tandem.login") || "{}");
  const error = h("p", { class: "form-error", id: "login-error", role: "alert" }, state.loginMessage || "");
  const workspace = h("input", {
    id: "login-workspace", name: "workspace", required: true, autocomplete: "organization",
    value: remembered.workspace || "",
  });
  const email = h("input", {
    id: "login-email", name: "email", type: "email", required: true, autocomplete: "username",
    value: remembered.email || "",
  });
  const password = h("input", {
    id: "login-password", name: "password", type: "password", required: true,
    autocomplete: "current-password",
  });
  const submit = h("button", { type: "submit", class: "primary" }, "Log in");
  const form = h(
    "form",
    { class: "login-card", "aria-labelledby": "login-title", "aria-describedby": "login-error" },
    h("h1", { id: "login-title" }, "Tandem"),
    h("p", { class: "muted" }, "Log in to your team's inbox."),
    h("label", { for: "login-workspace" }, "Workspace"),
    workspace,
    h("label", { for: "login-email" }, "Email"),
    email,
    h("label", { for: "login-password" }, "Password"),
    password,
    error,
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    error.textContent = "";
    try {
      const answer = await api.post("/auth/login", {
        workspace: workspace.value.trim().toLowerCase(),
        email: email.value.trim(),
        password: password.value,
      });
      api.setCsrf(answer.csrf_token);
      localStorage.setItem(
        "tandem.login",
        JSON.stringify({ workspace: workspace.value.trim().toLowerCase(), email: email.value.trim() }),
      );
      await onLoggedIn();
    } catch (failure) {
      error.textContent =
        failure.status === 401 ? "Wrong workspace, email or password." : failure.message;
      submit.disabled = false;
      password.focus();
    }
  });
  mount(root, h("main", { class: "login-page" }, form));
  (remembered.workspace ? password : workspace).focus();
}

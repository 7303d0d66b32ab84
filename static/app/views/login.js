// The login form. Remembers the workspace and email of the last login on this browser.

import * as api from "../api.js";
import { h } from "../dom.js";
import { state } from "../store.js";
import { cardForm } from "./card.js";

export function renderLogin(root, onLoggedIn) {
  const remembered = JSON.parse(localStorage.getItem("tandem.login") || "{}");
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
  cardForm(root, {
    id: "login",
    title: "Tandem",
    intro: "Log in to your team's inbox.",
    fields: [["Workspace", workspace], ["Email", email], ["Password", password]],
    submitLabel: "Log in",
    message: state.loginMessage,
    focus: remembered.workspace ? password : workspace,
    submit: async () => {
      const who = { workspace: workspace.value.trim().toLowerCase(), email: email.value.trim() };
      const answer = await api.post("/auth/login", { ...who, password: password.value });
      api.setCsrf(answer.csrf_token);
      localStorage.setItem("tandem.login", JSON.stringify(who));
      await onLoggedIn();
    },
    explain: (failure) => {
      password.focus();
      return failure.status === 401 ? "Wrong workspace, email or password." : failure.message;
    },
  });
}

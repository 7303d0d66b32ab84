// The login form. Remembers the workspace and email of the last login on this browser (and
// of an accepted invitation); a link from "your workspaces" email fills the workspace in.
// Links lead to a forgotten password, a forgotten workspace and, where the server allows it,
// sign-up.

import * as api from "../api.js";
import { t } from "../i18n.js";
import { h } from "../dom.js";
import { state } from "../store.js";
import { cardForm } from "./card.js";

export function remember(who) {
  localStorage.setItem("tandem.login", JSON.stringify(who));
}

export function remembered() {
  try {
    return JSON.parse(localStorage.getItem("tandem.login") || "{}") || {};
  } catch {
    return {};
  }
}

export function renderLogin(root, onLoggedIn, { workspace: given = "", notice = "" } = {}) {
  const last = remembered();
  const workspace = h("input", {
    id: "login-workspace", name: "workspace", required: true, autocomplete: "organization",
    value: given || last.workspace || "", maxlength: 100, autocapitalize: "none", spellcheck: "false",
  });
  const email = h("input", {
    id: "login-email", name: "email", type: "email", required: true, autocomplete: "username",
    value: last.email || "",
  });
  const password = h("input", {
    id: "login-password", name: "password", type: "password", required: true,
    autocomplete: "current-password",
  });
  const links = [
    [t("Forgot your password?"), "#/reset"],
    [t("Forgot your workspace?"), "#/find-workspace"],
  ];
  if (state.authOptions?.signup_enabled) links.push([t("New here? Create a workspace"), "#/signup"]);
  cardForm(root, {
    id: "login",
    title: "Tandem",
    intro: t("Log in to your team's inbox."),
    fields: [
      [t("Workspace"), workspace, t("Its address (as in your invitation) or its name.")],
      [t("Email"), email],
      [t("Password"), password],
    ],
    submitLabel: t("Log in"),
    message: state.loginMessage,
    notice,
    links,
    focus: workspace.value ? (email.value ? password : email) : workspace,
    submit: async () => {
      const who = { workspace: workspace.value.trim(), email: email.value.trim() };
      const answer = await api.post("/auth/login", { ...who, password: password.value });
      api.setCsrf(answer.csrf_token);
      remember(who);
      await onLoggedIn();
    },
    explain: (failure) => {
      password.focus();
      if (failure.status === 401 && failure.code === "deactivated") return "This account is deactivated; ask your workspace's admin.";
      if (failure.status === 401) return t("Wrong workspace, email or password.");
      if (failure.status === 429) return t("Too many attempts. Wait a few minutes, or reset your password.");
      return failure.message;
    },
  });
}

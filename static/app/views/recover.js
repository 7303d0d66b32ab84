// Getting back in: a password reset asked by email and chosen from its link, the list of
// one's workspaces by email, and confirming an address from its link.

import * as api from "../api.js";
import { t } from "../i18n.js";
import { h } from "../dom.js";
import { cardForm } from "./card.js";
import { remember, remembered } from "./login.js";

const back = () => [[t("Back to log in"), "#/login"]];

export function renderResetRequest(root) {
  const last = remembered();
  const workspace = h("input", { id: "reset-workspace", name: "workspace", required: true, autocomplete: "organization", value: last.workspace || "", maxlength: 100 });
  const email = h("input", { id: "reset-email", name: "email", type: "email", required: true, autocomplete: "username", value: last.email || "" });
  cardForm(root, {
    id: "reset",
    title: t("Reset your password"),
    intro: t("We will email you a link to choose a new one."),
    fields: [[t("Workspace"), workspace], [t("Email"), email]],
    submitLabel: t("Email me a link"),
    links: [[t("Forgot your workspace?"), "#/find-workspace"], ...back()],
    focus: workspace.value ? email : workspace,
    submit: async () => (await api.post("/auth/password-reset", { workspace: workspace.value.trim(), email: email.value.trim() })).message,
    explain: (failure) => failure.message,
  });
}

export function renderResetConfirm(root, token, onLoggedIn) {
  const password = h("input", { id: "reset-password", name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 10 });
  cardForm(root, {
    id: "reset-confirm",
    title: t("Choose a new password"),
    intro: t("Your other sessions will be logged out."),
    fields: [[t("New password"), password, t("At least 10 characters.")]],
    submitLabel: t("Save and log in"),
    links: back(),
    focus: password,
    submit: async () => {
      const answer = await api.post("/auth/password-reset/confirm", { token, password: password.value });
      api.setCsrf(answer.csrf_token);
      location.hash = "#/inbox";
      await onLoggedIn();
    },
    explain: (failure) =>
      failure.code === "link_invalid" ? "This link is unknown, used or expired. Ask for a new one." : failure.message,
  });
}

export function renderFindWorkspace(root) {
  const email = h("input", { id: "find-email", name: "email", type: "email", required: true, autocomplete: "email", value: remembered().email || "" });
  cardForm(root, {
    id: "find",
    title: t("Find your workspace"),
    intro: t("We will email you the workspaces this address belongs to, with a link to log in to each."),
    fields: [[t("Email"), email]],
    submitLabel: t("Email me my workspaces"),
    links: back(),
    focus: email,
    submit: async () => (await api.post("/auth/find-workspaces", { email: email.value.trim() })).message,
    explain: (failure) => failure.message,
  });
}

/** Confirm the address of a verification link; then go on to the app or the login form. */
export async function confirmAddress(root, token, onDone) {
  root.replaceChildren(h("main", { class: "login-page" }, h("p", { role: "status" }, "Confirming your address…")));
  try {
    const profile = await api.post("/auth/verify-email", { token });
    remember({ ...remembered(), email: profile.email });
    await onDone(`${profile.email} is confirmed. Thank you.`);
  } catch (failure) {
    await onDone("", failure.code === "link_invalid" ? "This confirmation link is unknown, used or expired." : failure.message);
  }
}

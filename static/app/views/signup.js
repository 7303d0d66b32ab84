// Creating a workspace: its name, its address (made from the name, editable), the owner's
// name, email and password. Shown only when the server allows sign-up.

import * as api from "../api.js";
import { t } from "../i18n.js";
import { h } from "../dom.js";
import { cardForm } from "./card.js";
import { remember } from "./login.js";

export function addressOf(name) {
  const slug = name.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return slug.slice(0, 41).replace(/-+$/, "");
}

export function renderSignup(root, onSignedUp) {
  const company = h("input", { id: "signup-workspace-name", name: "workspace_name", required: true, autocomplete: "organization", maxlength: 200 });
  const address = h("input", {
    id: "signup-workspace-slug", name: "workspace_slug", required: true, maxlength: 41, minlength: 2,
    pattern: "[a-z0-9][a-z0-9-]{1,40}", autocapitalize: "none", spellcheck: "false",
  });
  const name = h("input", { id: "signup-name", name: "name", required: true, autocomplete: "name", maxlength: 200 });
  const email = h("input", { id: "signup-email", name: "email", type: "email", required: true, autocomplete: "email" });
  const password = h("input", { id: "signup-password", name: "password", type: "password", required: true, autocomplete: "new-password", minlength: 10 });
  let edited = false;
  company.addEventListener("input", () => {
    if (!edited) address.value = addressOf(company.value);
  });
  address.addEventListener("input", () => {
    edited = true;
  });
  cardForm(root, {
    id: "signup",
    title: t("Create your workspace"),
    intro: t("A shared inbox for your team. You will be its owner."),
    fields: [
      [t("Company or team name"), company],
      [t("Workspace address"), address, t("Lower-case letters, digits and dashes. Your team logs in with it.")],
      [t("Your name"), name],
      [t("Your work email"), email],
      [t("Password"), password, t("At least 10 characters.")],
    ],
    submitLabel: t("Create workspace"),
    links: [[t("Already have an account? Log in"), "#/login"]],
    focus: company,
    submit: async () => {
      const body = {
        workspace_name: company.value.trim(),
        workspace_slug: address.value.trim(),
        name: name.value.trim(),
        email: email.value.trim(),
        password: password.value,
      };
      const answer = await api.post("/auth/signup", body);
      api.setCsrf(answer.csrf_token);
      remember({ workspace: body.workspace_slug, email: body.email });
      location.hash = "#/inbox";
      await onSignedUp();
    },
    explain: (failure) => {
      if (failure.code === "slug_taken") {
        address.focus();
        return `The address “${address.value}” is taken; choose another.`;
      }
      if (failure.code === "signup_disabled") return "Sign-up is switched off on this server. Ask its operator for an invitation.";
      const field = failure.details && failure.details.field;
      if (field === "password") password.focus();
      return failure.status === 422 && !field ? "Check the fields: " + failure.message : failure.message;
    },
  });
}

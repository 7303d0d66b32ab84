// Accepting an invitation (the link an admin sends: /app/#/accept/<token>): it says which
// workspace it leads to and its address (to log in with later), then asks for a password and
// optionally a display name, and logs in.

import * as api from "../api.js";
import { t } from "../i18n.js";
import { h } from "../dom.js";
import { cardForm } from "./card.js";
import { remember } from "./login.js";

export async function renderAccept(root, token, onJoined) {
  let preview = null;
  try {
    preview = await api.get(`/invitations/preview?token=${encodeURIComponent(token)}`);
  } catch (failure) {
    preview = null;
  }
  const name = h("input", { id: "accept-name", name: "name", autocomplete: "name", value: preview ? preview.name : "" });
  const password = h("input", {
    id: "accept-password", name: "password", type: "password", required: true,
    autocomplete: "new-password", minlength: 10,
  });
  cardForm(root, {
    id: "accept",
    title: preview ? `Join ${preview.workspace_name}` : "Join Tandem",
    intro: preview
      ? `You were invited as ${preview.email} (${preview.role}). The workspace's address is “${preview.workspace_slug}”: you log in with it later.`
      : "You were invited to a team inbox. Choose a password to join.",
    message: preview ? "" : "This invitation is unknown, used or expired. Ask for a new one.",
    fields: [[t("Your name"), name], [t("Password"), password, t("At least 10 characters.")]],
    submitLabel: t("Join the workspace"),
    links: [["Already joined? Log in", "#/login"]],
    focus: password,
    submit: async () => {
      const body = { token, password: password.value };
      if (name.value.trim()) body.name = name.value.trim();
      const answer = await api.post("/invitations/accept", body);
      api.setCsrf(answer.csrf_token);
      if (preview) remember({ workspace: preview.workspace_slug, email: preview.email });
      location.hash = "#/inbox";
      await onJoined();
    },
    explain: (failure) =>
      failure.status === 404 ? "This invitation is unknown or has expired." : failure.message,
  });
}

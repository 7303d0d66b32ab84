// Accepting an invitation (the link an admin sends: /app/#/accept/<token>): choose a
// password, optionally a display name, and you are logged in.

import * as api from "../api.js";
import { h } from "../dom.js";
import { cardForm } from "./card.js";

export function renderAccept(root, token, onJoined) {
  const name = h("input", { id: "accept-name", name: "name", autocomplete: "name" });
  const password = h("input", {
    id: "accept-password", name: "password", type: "password", required: true,
    autocomplete: "new-password", minlength: 8,
  });
  cardForm(root, {
    id: "accept",
    title: "Join Tandem",
    intro: "You were invited to a team inbox. Choose a password to join.",
    fields: [["Your name (optional)", name], ["Password", password]],
    submitLabel: "Join the workspace",
    focus: password,
    submit: async () => {
      const body = { token, password: password.value };
      if (name.value.trim()) body.name = name.value.trim();
      const answer = await api.post("/invitations/accept", body);
      api.setCsrf(answer.csrf_token);
      location.hash = "#/inbox";
      await onJoined();
    },
    explain: (failure) =>
      failure.status === 404 ? "This invitation is unknown or has expired." : failure.message,
  });
}

// What a new workspace has left to set up, shown where an empty inbox would be blank: put the
// chat widget on the website, connect email, invite the team. Each step links to its screen
// and shows as done once it is.

import { t } from "../i18n.js";
import { h } from "../dom.js";
import { can, state } from "../store.js";

/** A node to show in an empty inbox, or null when there is nothing to guide. */
export function emptyInboxGuide() {
  if (!state.me) return null;
  const ws = state.me.workspace;
  const steps = [
    [t("Put the chat widget on your website"), "#/settings/widget", (ws.allowed_origins || []).length > 0, "manage_workspace"],
    [t("Connect your support email"), "#/channels", Boolean(state.emailConnected), "manage_workspace"],
    [t("Invite your team"), "#/settings/members", (state.members || []).length > 1, "invite_members"],
  ];
  const mine = steps.filter(([, , , permission]) => can(permission));
  const intro = mine.length
    ? "Conversations appear here as customers write in. To get them coming:"
    : "Conversations appear here as customers write in. Your admins are setting up the channels.";
  return h(
    "section",
    { class: "empty-guide", id: "empty-guide", "aria-labelledby": "empty-guide-title" },
    h("h2", { id: "empty-guide-title" }, t("No conversations yet")),
    h("p", {}, intro),
    mine.length
      ? h(
          "ol",
          { class: "guide-steps" },
          mine.map(([label, href, done]) =>
            h("li", { class: done ? "done" : "" }, h("a", { href }, label), done ? h("span", { class: "badge ok" }, " done") : null),
          ),
        )
      : null,
  );
}

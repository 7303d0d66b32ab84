// Where I am signed in (#/profile): each browser's session with where and when it was last
// used; any other one can be signed out, and "Log out everywhere" ends them all, this one too.
// Ending a session closes that browser's live connection within seconds.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { t, tf } from "../i18n.js";
import { confirmButton, when } from "./settings_common.js";

/** A short name for a browser from its user agent: "Firefox on Windows". */
export function deviceName(agent) {
  if (!agent) return t("Unknown browser");
  const browser = /Edg\//.test(agent)
    ? "Edge"
    : /Firefox\//.test(agent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(agent)
        ? "Chrome"
        : /Safari\//.test(agent)
          ? "Safari"
          : null;
  const system = /Android/.test(agent)
    ? "Android"
    : /iPhone|iPad/.test(agent)
      ? "iOS"
      : /Windows/.test(agent)
        ? "Windows"
        : /Mac OS X|Macintosh/.test(agent)
          ? "macOS"
          : /Linux/.test(agent)
            ? "Linux"
            : null;
  if (browser && system) return tf("{browser} on {system}", { browser, system });
  return browser || system || agent.slice(0, 60);
}

export function createSessionsCard() {
  const list = h("ul", { class: "session-list", id: "profile-sessions" });
  const error = h("p", { class: "form-error", id: "profile-sessions-error", role: "alert" });
  const everywhere = h("button", { type: "button", class: "danger", id: "logout-everywhere" }, t("Log out everywhere"));
  everywhere.addEventListener("click", async () => {
    everywhere.disabled = true;
    try {
      await api.post("/auth/logout-everywhere");
      api.setCsrf(null);
      location.hash = "#/login";
      location.reload();
    } catch (failure) {
      error.textContent = failure.message;
      everywhere.disabled = false;
    }
  });
  const node = h(
    "section",
    { class: "profile-card", "aria-labelledby": "profile-sessions-title" },
    h("h3", { id: "profile-sessions-title" }, t("Where you are signed in")),
    list,
    error,
    h("p", { class: "field-hint" }, t("Lost a phone or used a shared computer? Sign that session out, or log out everywhere.")),
    everywhere,
  );

  async function load() {
    error.textContent = "";
    try {
      draw(await api.get("/me/sessions"));
    } catch (failure) {
      error.textContent = failure.message;
    }
  }

  function draw(sessions) {
    mount(
      list,
      sessions.map((session) =>
        h(
          "li",
          { class: "session-row", dataset: { session: session.id, current: String(session.current) } },
          h(
            "div",
            {},
            h("strong", {}, deviceName(session.user_agent)),
            session.current ? h("span", { class: "badge ok" }, ` ${t("This browser")}`) : null,
            h("p", { class: "muted small" }, tf("{address} · last active {when}", { address: session.address || "?", when: when(session.last_seen_at) })),
          ),
          session.current
            ? null
            : confirmButton({
                id: `session-end-${session.id.slice(0, 12)}`,
                label: tf("Sign out {device}", { device: deviceName(session.user_agent) }),
                text: t("Sign out"),
                question: t("That browser will have to log in again."),
                yes: t("Yes, sign out"),
                act: async () => {
                  try {
                    await api.del(`/me/sessions/${session.id}`);
                  } catch (failure) {
                    error.textContent = failure.message;
                  }
                  await load();
                },
              }),
        ),
      ),
    );
  }

  return { node, load };
}

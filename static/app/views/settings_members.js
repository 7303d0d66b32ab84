// Settings → Members: everyone in the workspace with their role, teams and whether they can
// log in; invitations: make one (its link is shown once, with the workspace's address),
// see the pending ones with their expiry, revoke one.

import * as api from "../api.js";
import { h, mount, preservingFocus } from "../dom.js";
import { state, update } from "../store.js";
import { t, tf } from "../i18n.js";
import { confirmButton, copyField, grantable, refusal, ROLES, when } from "./settings_common.js";

export function createMembersSection(root, { announce, title, id }) {
  let members = [];
  let teams = [];
  let invitations = [];

  const error = h("p", { class: "form-error", id: "members-error", role: "alert" });
  const table = h("div", { class: "table-scroll", id: "members-table-host" });

  // ---- invite form ---------------------------------------------------------------------
  const inviteName = h("input", { id: "invite-name", name: "name", autocomplete: "off", required: true });
  const inviteEmail = h("input", { id: "invite-email", name: "email", type: "email", autocomplete: "off", required: true });
  const inviteRole = h("select", { id: "invite-role", name: "role" });
  const inviteError = h("p", { class: "form-error", id: "invite-error", role: "alert" });
  const inviteButton = h("button", { type: "submit", class: "primary", id: "invite-submit" }, t("Create invitation"));
  const created = h("div", { id: "invitation-created-host" });
  const inviteForm = h(
    "form",
    { class: "settings-form inline-fields", id: "invite-form", "aria-labelledby": "invite-title", novalidate: true },
    h("h4", { id: "invite-title" }, t("Invite someone")),
    h("div", { class: "field" }, h("label", { for: "invite-name" }, t("Name")), inviteName),
    h("div", { class: "field" }, h("label", { for: "invite-email" }, t("Email")), inviteEmail),
    h("div", { class: "field" }, h("label", { for: "invite-role" }, t("Role")), inviteRole),
    h("div", { class: "form-actions" }, inviteButton),
    inviteError,
  );
  inviteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    invite();
  });
  const pending = h("div", { id: "invitations-host" });

  mount(
    root,
    h("h3", { id }, title),
    h("p", { class: "muted" }, t("Who works in this workspace. Roles, lowest first: agent, supervisor (assigns anyone, dashboard), admin (members, teams, API tokens, audit log), owner (workspace settings).")),
    error,
    table,
    h("section", { class: "settings-card", "aria-labelledby": "invitations-title" }, h("h3", { id: "invitations-title" }, t("Invitations")), inviteForm, created, pending),
  );

  function teamNames(ids) {
    const names = ids.map((teamId) => (teams.find((x) => x.id === teamId) || {}).name).filter(Boolean);
    return names.length ? names.join(", ") : "—";
  }

  function drawMembers() {
    const me = state.me;
    const mine = grantable(me.role);
    preservingFocus(table, () =>
      mount(
        table,
        h(
          "table",
          { class: "settings-table stack", id: "members-table" },
          h("caption", { class: "sr-only" }, t("Members")),
          h(
            "thead",
            {},
            h("tr", {}, ["Name", "Email", "Role", "Teams", "Status", "Access"].map((c) => h("th", { scope: "col" }, t(c)))),
          ),
          h(
            "tbody",
            {},
            members.map((m) => {
              const self = m.user_id === me.user_id;
              const locked = self || (m.role === "owner" && me.role !== "owner");
              const offered = ROLES.filter((r) => r === m.role || mine.includes(r));
              return h(
                "tr",
                { dataset: { user: m.user_id }, class: m.active ? null : "inactive" },
                h("th", { scope: "row" }, m.name, self ? h("span", { class: "muted" }, ` ${t("(you)")}`) : null),
                h("td", { class: "wrap-anywhere", dataset: { label: t("Email") } }, m.email),
                h(
                  "td",
                  { dataset: { label: t("Role") } },
                  h(
                    "select",
                    {
                      id: `member-role-${m.user_id}`,
                      "aria-label": tf("Role of {name}", { name: m.name }),
                      disabled: locked,
                      onchange: (event) => changeRole(m, event.target),
                    },
                    offered.map((r) => h("option", { value: r, selected: r === m.role }, t(r))),
                  ),
                ),
                h("td", { dataset: { label: t("Teams") } }, teamNames(m.team_ids)),
                h("td", { dataset: { label: t("Status") } }, m.active ? t("Active") : t("Deactivated")),
                h(
                  "td",
                  { class: locked ? "no-access" : null },
                  locked
                    ? h("span", { class: "muted" }, "—")
                    : h(
                        "button",
                        { type: "button", id: `member-active-${m.user_id}`, "aria-label": tf(m.active ? "Deactivate {name}" : "Reactivate {name}", { name: m.name }), onclick: () => setActive(m, !m.active) },
                        m.active ? t("Deactivate") : t("Reactivate"),
                      ),
                ),
              );
            }),
          ),
        ),
      ),
    );
  }

  function drawInvitations() {
    mount(
      pending,
      h("h4", { id: "pending-title" }, t("Pending invitations")),
      invitations.length
        ? h(
            "ul",
            { class: "settings-list", id: "pending-invitations", "aria-labelledby": "pending-title" },
            invitations.map((i) =>
              h(
                "li",
                { dataset: { invitation: i.id } },
                h("span", { class: "settings-list-main" }, h("strong", {}, i.name), ` ${tf("{email} · {role} · expires {when}", { email: i.email, role: t(i.role), when: when(i.expires_at) })}`),
                confirmButton({
                  id: `invitation-revoke-${i.id}`,
                  label: tf("Revoke invitation for {email}", { email: i.email }),
                  text: t("Revoke"),
                  question: t("Its link stops working."),
                  yes: t("Yes, revoke"),
                  act: () => revoke(i),
                }),
              ),
            ),
          )
        : h("p", { class: "muted", id: "no-invitations" }, t("No pending invitations.")),
    );
  }

  function drawRoles() {
    const current = inviteRole.value || "agent";
    mount(inviteRole, grantable(state.me.role).map((r) => h("option", { value: r, selected: r === current }, t(r))));
  }

  async function changeRole(member, select) {
    error.textContent = "";
    const role = select.value;
    try {
      const answer = await api.patch(`/members/${member.user_id}`, { role });
      Object.assign(member, answer);
      announce(tf("{name} is now {role}.", { name: member.name, role: t(answer.role) }));
      refreshShared();
    } catch (failure) {
      if (failure.status === 401) return;
      select.value = member.role;
      error.textContent = refusal(failure, tf("{name}'s role was not changed", { name: member.name }));
    }
  }

  async function setActive(member, active) {
    error.textContent = "";
    try {
      Object.assign(member, await api.patch(`/members/${member.user_id}`, { active }));
      drawMembers();
      announce(tf(active ? "{name} can log in again." : "{name} is deactivated and logged out.", { name: member.name }));
      refreshShared();
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = refusal(failure, active ? t("Not reactivated") : t("Not deactivated"));
    }
  }

  async function invite() {
    inviteError.textContent = "";
    for (const input of [inviteName, inviteEmail]) input.removeAttribute("aria-invalid");
    const name = inviteName.value.trim();
    const email = inviteEmail.value.trim();
    if (!name) return bad(inviteName, t("Enter the person's name."));
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) return bad(inviteEmail, t("Enter an email address, like ana@yourshop.com."));
    inviteButton.disabled = true;
    try {
      const answer = await api.post("/invitations", { name, email, role: inviteRole.value });
      inviteName.value = "";
      inviteEmail.value = "";
      showCreated(answer, name);
      announce(tf("Invitation for {email} created: copy the link now.", { email: answer.email }));
      await loadInvitations();
      document.getElementById("invitation-link-copy")?.focus();
    } catch (failure) {
      if (failure.status === 401) return;
      const field = failure.details && failure.details.field;
      if (field === "email" || failure.code === "already_member" || failure.code === "already_invited") bad(inviteEmail, refusal(failure, t("Not invited")));
      else if (field === "name") bad(inviteName, refusal(failure, t("Not invited")));
      else inviteError.textContent = refusal(failure, t("Not invited"));
    } finally {
      inviteButton.disabled = false;
    }
  }

  function bad(input, text) {
    inviteError.textContent = text;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  function showCreated(answer, name) {
    const slug = state.me.workspace.slug;
    const link = copyField({ id: "invitation-link", label: t("Invitation link"), value: answer.accept_url, announce });
    mount(
      created,
      h(
        "div",
        { class: "invitation-card", id: "invitation-created" },
        h("p", { class: "secret-notice" }, h("strong", {}, t("Copy this link now: ")), t("it is shown only once. Send it to the person yourself.")),
        h("p", {}, tf("{name} ({email}) is invited as {role}. The link works until {when}.", { name, email: answer.email, role: t(answer.role), when: when(answer.expires_at) })),
        link.node,
        h(
          "p",
          { id: "invitation-workspace" },
          `${t("Workspace address")}: `,
          h("strong", { class: "slug" }, slug),
          tf(" — after joining they log in at {url} with this address, their email and password.", { url: `${location.origin}/` }),
        ),
      ),
    );
  }

  async function revoke(invitation) {
    error.textContent = "";
    try {
      await api.del(`/invitations/${invitation.id}`);
      announce(tf("The invitation for {email} is revoked.", { email: invitation.email }));
    } catch (failure) {
      if (failure.status === 401) return;
      announce(refusal(failure, t("Not revoked")));
    }
    await loadInvitations();
    inviteName.focus();
  }

  function refreshShared() {
    update({ members: members.map((m) => ({ ...m })) });
  }

  async function loadInvitations() {
    try {
      invitations = await api.get("/invitations");
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the invitations"));
    }
    drawInvitations();
  }

  return {
    async load() {
      error.textContent = "";
      created.replaceChildren(); // a link is shown once, right after it is made
      drawRoles();
      try {
        [members, teams] = await Promise.all([api.get("/members"), api.get("/teams")]);
      } catch (failure) {
        if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the members"));
      }
      drawMembers();
      await loadInvitations();
    },
  };
}

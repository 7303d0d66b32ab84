// Settings → Teams: create, rename, delete (refused while it has active tickets), and choose
// exactly who is in each team.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { update } from "../store.js";
import { t, tf } from "../i18n.js";
import { confirmButton, refusal } from "./settings_common.js";

export function createTeamsSection(root, { announce, title, id }) {
  let teams = []; // [{id, name, user_ids}]
  let members = [];

  const error = h("p", { class: "form-error", id: "teams-error", role: "alert" });
  const nameInput = h("input", { id: "team-new-name", autocomplete: "off", required: true });
  const createButton = h("button", { type: "submit", class: "primary", id: "team-create" }, t("Create team"));
  const form = h(
    "form",
    { class: "settings-form inline-fields", id: "team-form", "aria-labelledby": "team-form-title", novalidate: true },
    h("h4", { id: "team-form-title" }, t("New team")),
    h("div", { class: "field" }, h("label", { for: "team-new-name" }, t("Team name")), nameInput),
    h("div", { class: "form-actions" }, createButton),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    create();
  });
  const list = h("div", { id: "teams-list" });
  mount(root, h("h3", { id }, title), h("p", { class: "muted" }, t("Teams are queues: a ticket can belong to one team, and its members see it in their team view.")), error, form, list);

  function draw() {
    if (!teams.length) {
      mount(list, h("p", { class: "muted", id: "no-teams" }, t("No teams yet.")));
      return;
    }
    mount(
      list,
      teams.map((team) => {
        const rename = h("input", { id: `team-name-${team.id}`, value: team.name, autocomplete: "off" });
        const renameForm = h(
          "form",
          { class: "inline-fields", novalidate: true, onsubmit: (event) => { event.preventDefault(); renameTeam(team, rename); } },
          h("div", { class: "field" }, h("label", { for: `team-name-${team.id}` }, tf("Name of {team}", { team: team.name })), rename),
          h("div", { class: "form-actions" }, h("button", { type: "submit", id: `team-rename-${team.id}` }, t("Rename"))),
        );
        const boxes = members.map((m) =>
          h(
            "label",
            { class: "check" },
            h("input", { type: "checkbox", id: `team-${team.id}-member-${m.user_id}`, value: m.user_id, checked: team.user_ids.includes(m.user_id) }),
            ` ${m.name}${m.active ? "" : ` ${t("(deactivated)")}`}`,
          ),
        );
        const membersForm = h(
          "form",
          { novalidate: true, onsubmit: (event) => { event.preventDefault(); saveMembers(team, membersForm); } },
          h("fieldset", { class: "member-checks" }, h("legend", {}, tf("Members of {team}", { team: team.name })), boxes.length ? boxes : h("p", { class: "muted" }, t("No members."))),
          h("div", { class: "form-actions" }, h("button", { type: "submit", id: `team-members-save-${team.id}` }, tf("Save members of {team}", { team: team.name }))),
        );
        return h(
          "section",
          { class: "settings-card", dataset: { team: team.id }, "aria-labelledby": `team-title-${team.id}` },
          h("h4", { id: `team-title-${team.id}` }, team.name, h("span", { class: "muted" }, ` · ${tf(team.user_ids.length === 1 ? "{n} member" : "{n} members", { n: team.user_ids.length })}`)),
          renameForm,
          membersForm,
          h(
            "p",
            {},
            confirmButton({
              id: `team-delete-${team.id}`,
              label: tf("Delete team {team}", { team: team.name }),
              question: t("Its members stay in the workspace."),
              yes: t("Yes, delete"),
              act: () => remove(team),
            }),
          ),
        );
      }),
    );
  }

  async function create() {
    error.textContent = "";
    const name = nameInput.value.trim();
    if (!name) {
      error.textContent = t("Enter a name for the team.");
      nameInput.focus();
      return;
    }
    createButton.disabled = true;
    try {
      await api.post("/teams", { name });
      nameInput.value = "";
      announce(tf("Team {team} created.", { team: name }));
      await load();
      nameInput.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Not created"));
    } finally {
      createButton.disabled = false;
    }
  }

  async function renameTeam(team, input) {
    error.textContent = "";
    const name = input.value.trim();
    try {
      await api.patch(`/teams/${team.id}`, { name });
      announce(tf("Renamed to {name}.", { name }));
      await load();
      document.getElementById(`team-name-${team.id}`)?.focus();
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = refusal(failure, t("Not renamed"));
      input.focus();
    }
  }

  async function saveMembers(team, membersForm) {
    error.textContent = "";
    const user_ids = [...membersForm.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
    try {
      await api.request("PUT", `/teams/${team.id}/members`, { user_ids });
      announce(tf(user_ids.length === 1 ? "{team} now has {n} member." : "{team} now has {n} members.", { team: team.name, n: user_ids.length }));
      await load();
      document.getElementById(`team-members-save-${team.id}`)?.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Members not saved"));
    }
  }

  async function remove(team) {
    error.textContent = "";
    try {
      await api.del(`/teams/${team.id}`);
      announce(tf("Team {team} deleted.", { team: team.name }));
      await load();
      nameInput.focus();
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = refusal(failure, tf("{team} was not deleted", { team: team.name }));
      draw();
    }
  }

  async function load() {
    try {
      [teams, members] = await Promise.all([api.get("/teams/members"), api.get("/members")]);
      update({ teams: teams.map((team) => ({ id: team.id, name: team.name })) });
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the teams"));
    }
    draw();
  }

  return {
    load() {
      error.textContent = "";
      return load();
    },
  };
}

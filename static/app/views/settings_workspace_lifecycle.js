// Settings → Export and cancel: the owner downloads the whole workspace as a zip, cancels it
// (with their password; it becomes read-only and is deleted after the window), and while it
// is cancelled sees when its data goes, with a button to restore it.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { can } from "../store.js";
import { t, tf } from "../i18n.js";
import { refusal, when } from "./settings_common.js";

export function createLifecycleSection(root, { announce, title, id }) {
  const error = h("p", { class: "form-error", id: "lifecycle-error", role: "alert" });
  const banner = h("div", { id: "lifecycle-banner", role: "status" });
  const ownerOnly = h("p", { class: "muted", id: "lifecycle-owner-only" }, t("Only the workspace owner can export, cancel or restore the workspace."));
  const exportLink = h("a", { href: "/api/v1/workspace/export", download: "", id: "lifecycle-export" }, t("Export workspace"));
  // Parts are shown and hidden through plain wrappers: `.settings-form` sets its own display.
  const exportPart = h(
    "div",
    { id: "lifecycle-export-part" },
    h(
      "div",
      { class: "settings-form" },
      h("h4", {}, t("Export")),
      h("p", { class: "muted" }, t("A zip of every conversation, contact, member, team, canned response and article, with their files. Passwords and secrets are left out.")),
      h("p", {}, exportLink),
    ),
  );
  const password = h("input", { type: "password", id: "lifecycle-password", autocomplete: "current-password", required: true });
  const confirm = h("button", { type: "submit", class: "danger", id: "lifecycle-cancel-confirm" }, t("Yes, cancel the workspace"));
  const cancelForm = h(
    "form",
    { class: "settings-form", id: "lifecycle-cancel-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "lifecycle-password" }, t("Your password")), password),
    h("div", { class: "form-actions" }, confirm, " ", h("button", { type: "button", id: "lifecycle-cancel-keep", onclick: () => closeForm() }, t("No, keep it"))),
  );
  cancelForm.addEventListener("submit", (event) => {
    event.preventDefault();
    cancel();
  });
  const ask = h("button", { type: "button", class: "danger", id: "lifecycle-cancel" }, t("Cancel workspace"));
  const cancelHost = h("div", { hidden: true }, cancelForm);
  ask.addEventListener("click", () => {
    cancelHost.hidden = false;
    ask.hidden = true;
    password.focus();
  });
  const note = h("p", { class: "muted", id: "lifecycle-cancel-note" });
  const cancelPart = h("div", { id: "lifecycle-cancel-part" }, h("h4", {}, t("Cancel")), note, ask, cancelHost);
  mount(root, h("h3", { id }, title), ownerOnly, error, banner, exportPart, cancelPart);

  function closeForm() {
    password.value = "";
    cancelHost.hidden = true;
    ask.hidden = false;
    ask.focus();
  }

  function draw(state) {
    const owner = can("manage_workspace");
    ownerOnly.hidden = owner;
    exportPart.hidden = !owner;
    note.textContent = tf("The workspace becomes read-only at once: everyone can still log in, read and export it. After {days} days all its data is deleted, unless you restore it before.", { days: state.window_days });
    if (state.status === "cancelled") {
      const restore = h("button", { type: "button", class: "primary", id: "lifecycle-restore", onclick: () => restoreIt() }, t("Restore workspace"));
      mount(
        banner,
        h(
          "div",
          { class: "secret-notice", id: "lifecycle-cancelled" },
          h("p", {}, h("strong", {}, t("This workspace is cancelled and read-only. ")), tf("Its data will be deleted after {date}.", { date: when(state.purge_after) })),
          owner ? restore : null,
        ),
      );
      cancelPart.hidden = true;
    } else {
      banner.replaceChildren();
      cancelPart.hidden = !owner;
    }
  }

  async function cancel() {
    error.textContent = "";
    if (!password.value) {
      error.textContent = t("Enter your password to cancel the workspace.");
      password.focus();
      return;
    }
    confirm.disabled = true;
    try {
      const state = await api.post("/workspace/cancel", { password: password.value });
      closeForm();
      draw(state);
      announce(tf("Workspace cancelled. Its data will be deleted after {date}.", { date: when(state.purge_after) }));
      document.getElementById("lifecycle-restore")?.focus();
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = failure.code === "wrong_password" ? t("That password is not right.") : refusal(failure, t("Not cancelled"));
      password.focus();
    } finally {
      confirm.disabled = false;
    }
  }

  async function restoreIt() {
    error.textContent = "";
    try {
      draw(await api.post("/workspace/restore"));
      announce(t("Workspace restored: everything works again."));
      exportLink.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Not restored"));
    }
  }

  return {
    async load() {
      error.textContent = "";
      try {
        draw(await api.get("/workspace/lifecycle"));
      } catch (failure) {
        if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the workspace's state"));
      }
    },
  };
}

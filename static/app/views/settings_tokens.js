// Settings → API tokens: tokens integrations use (`Authorization: Bearer …`). A new token's
// secret is shown once, with a Copy button; revoking one stops it at once.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { confirmButton, copyField, refusal, when } from "./settings_common.js";

export function createTokensSection(root, { announce, title, id }) {
  let tokens = [];
  const error = h("p", { class: "form-error", id: "tokens-error", role: "alert" });
  const name = h("input", { id: "token-name", autocomplete: "off", required: true, "aria-describedby": "token-name-note" });
  const button = h("button", { type: "submit", class: "primary", id: "token-create" }, "Create token");
  const fresh = h("div", { id: "token-created-host" });
  const form = h(
    "form",
    { class: "settings-form inline-fields", id: "token-form", "aria-labelledby": "token-form-title", novalidate: true },
    h("h4", { id: "token-form-title" }, "New token"),
    h("div", { class: "field" }, h("label", { for: "token-name" }, "Token name"), name),
    h("div", { class: "form-actions" }, button),
    h("p", { class: "muted small", id: "token-name-note" }, "What uses it, like “CRM sync”."),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    create();
  });
  const list = h("div", { id: "tokens-list" });
  mount(root, h("h3", { id }, title), h("p", { class: "muted" }, "A token acts as the admin who made it, with no CSRF header: keep it secret."), error, form, fresh, list);

  function draw() {
    mount(
      list,
      tokens.length
        ? h(
            "div",
            { class: "table-scroll" },
            h(
              "table",
              { class: "settings-table stack", id: "tokens-table" },
              h("caption", { class: "sr-only" }, "API tokens"),
              h("thead", {}, h("tr", {}, ["Name", "Starts with", "Created", "Access"].map((c) => h("th", { scope: "col" }, c)))),
              h(
                "tbody",
                {},
                tokens.map((t) =>
                  h(
                    "tr",
                    { dataset: { token: t.id } },
                    h("th", { scope: "row", class: "wrap-anywhere" }, t.name),
                    h("td", { dataset: { label: "Starts with" } }, h("code", {}, `${t.prefix}…`)),
                    h("td", { dataset: { label: "Created" } }, when(t.created_at)),
                    h(
                      "td",
                      {},
                      confirmButton({
                        id: `token-revoke-${t.id}`,
                        label: `Revoke ${t.name}`,
                        text: "Revoke",
                        question: "What uses it stops working.",
                        yes: "Yes, revoke",
                        act: () => revoke(t),
                      }),
                    ),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted", id: "no-tokens" }, "No API tokens."),
    );
  }

  async function create() {
    error.textContent = "";
    const label = name.value.trim();
    if (!label) {
      error.textContent = "Enter a name for the token.";
      name.focus();
      return;
    }
    button.disabled = true;
    try {
      const answer = await api.post("/api-tokens", { name: label });
      name.value = "";
      const field = copyField({ id: "token-secret", label: "Token secret", value: answer.token, announce });
      mount(
        fresh,
        h(
          "div",
          { class: "invitation-card", id: "token-created" },
          h("p", { class: "secret-notice" }, h("strong", {}, "Copy the token now: "), `it is shown only once. ${answer.name} can be revoked below.`),
          field.node,
        ),
      );
      announce(`Token ${answer.name} created: copy it now.`);
      await load();
      document.getElementById("token-secret-copy")?.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, "Not created");
    } finally {
      button.disabled = false;
    }
  }

  async function revoke(token) {
    try {
      await api.del(`/api-tokens/${token.id}`);
      announce(`${token.name} revoked.`);
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, "Not revoked");
    }
    await load();
    name.focus();
  }

  async function load() {
    try {
      tokens = await api.get("/api-tokens");
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, "Could not read the tokens");
    }
    draw();
  }

  return {
    load() {
      error.textContent = "";
      fresh.replaceChildren();
      return load();
    },
  };
}

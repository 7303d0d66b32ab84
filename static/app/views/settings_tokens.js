// Settings → API tokens: tokens integrations use (`Authorization: Bearer …`). A new token's
// secret is shown once, with a Copy button; revoking one stops it at once.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { t, tf } from "../i18n.js";
import { confirmButton, copyField, refusal, when } from "./settings_common.js";

function scopeLabel(scopes) {
  if (scopes.includes("admin")) return t("Admin");
  return scopes.includes("write") ? t("Read and write") : t("Read only");
}

export function createTokensSection(root, { announce, title, id }) {
  let tokens = [];
  const error = h("p", { class: "form-error", id: "tokens-error", role: "alert" });
  const name = h("input", { id: "token-name", autocomplete: "off", required: true, "aria-describedby": "token-name-note" });
  const scope = h(
    "select",
    { id: "token-scope" },
    h("option", { value: "read" }, t("Read only")),
    h("option", { value: "write", selected: true }, t("Read and write")),
    h("option", { value: "admin" }, t("Admin: also settings, members and tokens")),
  );
  const expiry = h(
    "select",
    { id: "token-expiry" },
    [30, 90, 365].map((days) => h("option", { value: String(days), selected: days === 90 }, tf("{days} days", { days }))),
    h("option", { value: "never" }, t("Never")),
  );
  const button = h("button", { type: "submit", class: "primary", id: "token-create" }, t("Create token"));
  const fresh = h("div", { id: "token-created-host" });
  const form = h(
    "form",
    { class: "settings-form inline-fields", id: "token-form", "aria-labelledby": "token-form-title", novalidate: true },
    h("h4", { id: "token-form-title" }, t("New token")),
    h("div", { class: "field" }, h("label", { for: "token-name" }, t("Token name")), name),
    h("div", { class: "field" }, h("label", { for: "token-scope" }, t("Access")), scope),
    h("div", { class: "field" }, h("label", { for: "token-expiry" }, t("Expires after")), expiry),
    h("div", { class: "form-actions" }, button),
    h("p", { class: "muted small", id: "token-name-note" }, t("What uses it, like “CRM sync”.")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    create();
  });
  const list = h("div", { id: "tokens-list" });
  mount(root, h("h3", { id }, title), h("p", { class: "muted" }, t("A token acts as the admin who made it, within its access and until it expires, with no CSRF header: keep it secret.")), error, form, fresh, list);

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
              h("caption", { class: "sr-only" }, t("API tokens")),
              h("thead", {}, h("tr", {}, ["Name", "Starts with", "Access", "Created", "Expires", "Last used", "Actions"].map((c) => h("th", { scope: "col" }, t(c))))),
              h(
                "tbody",
                {},
                tokens.map((token) =>
                  h(
                    "tr",
                    { dataset: { token: token.id } },
                    h("th", { scope: "row", class: "wrap-anywhere" }, token.name),
                    h("td", { dataset: { label: t("Starts with") } }, h("code", {}, `${token.prefix}…`)),
                    h("td", { dataset: { label: t("Access") } }, scopeLabel(token.scopes)),
                    h("td", { dataset: { label: t("Created") } }, when(token.created_at)),
                    h("td", { dataset: { label: t("Expires") } }, token.expires_at ? when(token.expires_at) : t("Never")),
                    h("td", { dataset: { label: t("Last used") } }, token.last_used_at ? when(token.last_used_at) : t("Not yet")),
                    h(
                      "td",
                      {},
                      confirmButton({
                        id: `token-revoke-${token.id}`,
                        label: tf("Revoke {name}", { name: token.name }),
                        text: t("Revoke"),
                        question: t("What uses it stops working."),
                        yes: t("Yes, revoke"),
                        act: () => revoke(token),
                      }),
                    ),
                  ),
                ),
              ),
            ),
          )
        : h("p", { class: "muted", id: "no-tokens" }, t("No API tokens.")),
    );
  }

  async function create() {
    error.textContent = "";
    const label = name.value.trim();
    if (!label) {
      error.textContent = t("Enter a name for the token.");
      name.focus();
      return;
    }
    button.disabled = true;
    try {
      const answer = await api.post("/api-tokens", {
        name: label,
        scopes: [scope.value],
        expires_in_days: expiry.value === "never" ? null : Number(expiry.value),
      });
      name.value = "";
      const field = copyField({ id: "token-secret", label: t("Token secret"), value: answer.token, announce });
      mount(
        fresh,
        h(
          "div",
          { class: "invitation-card", id: "token-created" },
          h("p", { class: "secret-notice" }, h("strong", {}, t("Copy the token now: ")), tf("it is shown only once. {name} can be revoked below.", { name: answer.name })),
          field.node,
        ),
      );
      announce(tf("Token {name} created: copy it now.", { name: answer.name }));
      await load();
      document.getElementById("token-secret-copy")?.focus();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Not created"));
    } finally {
      button.disabled = false;
    }
  }

  async function revoke(token) {
    try {
      await api.del(`/api-tokens/${token.id}`);
      announce(tf("{name} revoked.", { name: token.name }));
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Not revoked"));
    }
    await load();
    name.focus();
  }

  async function load() {
    try {
      tokens = await api.get("/api-tokens");
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the tokens"));
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

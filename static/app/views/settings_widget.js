// Settings → Widget: the tag a site pastes to show the webchat (this server's address and
// the workspace id), its colour, a preview, the sites allowed to embed it, the greeting and
// reply-time texts, and the identity-verification secret. Owners change these; admins see
// the install tag.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { can } from "../store.js";
import { t, tf } from "../i18n.js";
import { confirmButton, copyField, copyText, refusal } from "./settings_common.js";

const DEFAULT_COLOR = "#2f6feb"; // the widget's own default accent

/** The install tag exactly as a site's HTML carries it. */
export function snippet(workspace, color) {
  const colour = color && color.toLowerCase() !== DEFAULT_COLOR ? ` data-color="${color}"` : "";
  return `<script src="${workspace.widget_script_url}" data-workspace="${workspace.id}"${colour} async></script>`;
}

/** Black or white, whichever reads better on `hex` (WCAG relative luminance). */
function inkOn(hex) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) ? "#ffffff" : "#000000";
}

/** A site origin as browsers send it (scheme, host, port), or null. */
function originOf(value) {
  try {
    const url = new URL(value.trim());
    if (!["http:", "https:"].includes(url.protocol) || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) return null;
    return url.origin;
  } catch {
    return null;
  }
}

export function createWidgetSection(root, { announce, title, id }) {
  let workspace = null; // GET /workspace
  let secret = null; // GET /workspace/widget (owners)
  let color = localStorage.getItem("tandem.widget.color") || DEFAULT_COLOR;

  const error = h("p", { class: "form-error", id: "widget-error", role: "alert" });
  const install = copyField({
    id: "widget-snippet",
    label: t("Install snippet"),
    multiline: true,
    announce,
    note: t("Paste it into your site's HTML, before </body>, on every page that shows the chat."),
  });

  // ---- colour and preview --------------------------------------------------------------
  const colorInput = h("input", { type: "color", id: "widget-color", value: color, "aria-describedby": "widget-color-note" });
  const previewHeader = h("div", { class: "preview-header" }, h("span", {}, "Chat"));
  const previewGreeting = h("p", { class: "preview-greeting", id: "preview-greeting" });
  const previewReply = h("p", { class: "preview-reply muted small", id: "preview-reply" });
  const previewLauncher = h("span", { class: "preview-launcher", id: "preview-launcher", "aria-hidden": "true" }, h("span", { class: "preview-bubble" }));
  const preview = h(
    "figure",
    { class: "widget-preview", id: "widget-preview", "aria-labelledby": "widget-preview-caption" },
    h("figcaption", { id: "widget-preview-caption", class: "label" }, t("Preview")),
    h("div", { class: "preview-panel" }, previewHeader, h("div", { class: "preview-body" }, previewGreeting, previewReply)),
    previewLauncher,
  );
  colorInput.addEventListener("input", () => {
    color = colorInput.value;
    localStorage.setItem("tandem.widget.color", color);
    drawSnippet();
    drawPreview();
  });

  // ---- texts -----------------------------------------------------------------------------
  const greeting = h("input", { id: "widget-greeting", maxlength: "300", autocomplete: "off" });
  const replyTime = h("input", { id: "widget-reply-time", maxlength: "100", autocomplete: "off", "aria-describedby": "widget-reply-time-note" });
  const textsButton = h("button", { type: "submit", class: "primary", id: "widget-texts-save" }, t("Save texts"));
  const textsForm = h(
    "form",
    { class: "settings-form", id: "widget-texts-form", "aria-labelledby": "widget-texts-title", novalidate: true },
    h("h4", { id: "widget-texts-title" }, t("Texts")),
    h("div", { class: "field" }, h("label", { for: "widget-greeting" }, t("Greeting")), greeting),
    h(
      "div",
      { class: "field" },
      h("label", { for: "widget-reply-time" }, t("Reply time")),
      replyTime,
      h("p", { class: "muted small", id: "widget-reply-time-note" }, t("Shown when no agent is online: “We usually reply in …”.")),
    ),
    h("div", { class: "form-actions" }, textsButton),
  );
  for (const input of [greeting, replyTime]) input.addEventListener("input", drawPreview);
  textsForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveTexts();
  });

  // ---- allowed origins -------------------------------------------------------------------
  const originInput = h("input", { id: "widget-origin", type: "url", autocomplete: "off", placeholder: "https://shop.example", "aria-describedby": "widget-origin-note" });
  const originError = h("p", { class: "form-error", id: "widget-origin-error", role: "alert" });
  const originsList = h("div", { id: "widget-origins" });
  const originForm = h(
    "form",
    { class: "settings-form inline-fields", id: "widget-origin-form", "aria-labelledby": "widget-origins-title", novalidate: true },
    h("div", { class: "field grow" }, h("label", { for: "widget-origin" }, t("Site address (origin)")), originInput),
    h("div", { class: "form-actions" }, h("button", { type: "submit", id: "widget-origin-add" }, t("Add origin"))),
  );
  originForm.addEventListener("submit", (event) => {
    event.preventDefault();
    addOrigin();
  });

  // ---- identity verification -------------------------------------------------------------
  const secretInput = h("input", { id: "widget-secret", type: "password", readonly: true, class: "copy-value", spellcheck: "false", "aria-describedby": "widget-secret-note" });
  const showButton = h("button", { type: "button", id: "widget-secret-show", "aria-pressed": "false" }, t("Show"));
  showButton.addEventListener("click", () => {
    const shown = secretInput.type === "password";
    secretInput.type = shown ? "text" : "password";
    showButton.textContent = shown ? t("Hide") : t("Show");
    showButton.setAttribute("aria-pressed", String(shown));
  });
  const copySecret = h("button", { type: "button", id: "widget-secret-copy", "aria-label": t("Copy identity-verification secret") }, t("Copy"));
  copySecret.addEventListener("click", async () => {
    announce((await copyText(secretInput.value, null)) ? t("Secret copied.") : t("Could not copy: show the secret, select it and copy it yourself."));
  });
  const rotateHost = h("span", {});

  const ownerParts = h(
    "div",
    { id: "widget-owner-settings" },
    h("section", { class: "settings-card", "aria-labelledby": "widget-look-title" },
      h("h4", { id: "widget-look-title" }, t("Look")),
      h("div", { class: "widget-look" },
        h("div", { class: "widget-look-fields" },
          h("div", { class: "field" },
            h("label", { for: "widget-color" }, t("Colour")),
            colorInput,
            h("p", { class: "muted small", id: "widget-color-note" }, t("The colour is part of the snippet: paste the snippet again after changing it.")),
          ),
          textsForm,
        ),
        preview,
      ),
    ),
    h("section", { class: "settings-card", "aria-labelledby": "widget-origins-title" },
      h("h4", { id: "widget-origins-title" }, t("Allowed origins")),
      h("p", { class: "muted small", id: "widget-origin-note" }, t("The widget works only on these sites: scheme, host and port, no path (https://shop.example).")),
      originsList,
      originForm,
      originError,
    ),
    h("section", { class: "settings-card", "aria-labelledby": "widget-secret-title" },
      h("h4", { id: "widget-secret-title" }, t("Identity verification")),
      h("p", { class: "muted small", id: "widget-secret-note" }, t("Your server signs a logged-in customer's id with this secret (HMAC-SHA256, hex) so the widget can trust who they are. Keep it on your server, never in a page.")),
      h("div", { class: "field" },
        h("label", { for: "widget-secret" }, t("Identity-verification secret")),
        h("div", { class: "copy-row" }, secretInput, showButton, copySecret),
      ),
      rotateHost,
    ),
  );
  const notOwner = h("p", { class: "muted", id: "widget-owner-only" }, t("Only the workspace owner can change the widget's look, texts, allowed sites and secret."));

  mount(
    root,
    h("h3", { id }, title),
    h("p", { class: "muted" }, t("The webchat on your own website.")),
    error,
    h("section", { class: "settings-card", "aria-labelledby": "widget-install-title" }, h("h4", { id: "widget-install-title" }, t("Install")), install.node),
    ownerParts,
    notOwner,
  );

  function drawSnippet() {
    if (workspace) install.set(snippet(workspace, color));
  }

  function drawPreview() {
    const ink = inkOn(color);
    previewHeader.style.background = color;
    previewHeader.style.color = ink;
    previewLauncher.style.background = color;
    previewLauncher.style.setProperty("--ink", ink);
    previewGreeting.textContent = greeting.value.trim() || (workspace ? workspace.widget_greeting : "");
    previewReply.textContent = `We usually reply in ${replyTime.value.trim() || (workspace ? workspace.widget_reply_time : "")}.`;
  }

  function drawOrigins() {
    const origins = workspace ? workspace.allowed_origins : [];
    mount(
      originsList,
      origins.length
        ? h(
            "ul",
            { class: "settings-list", id: "widget-origin-list", "aria-label": t("Allowed origins") },
            origins.map((origin) =>
              h("li", {}, h("code", { class: "settings-list-main wrap-anywhere" }, origin), h("button", { type: "button", "aria-label": tf("Remove {name}", { name: origin }), onclick: () => saveOrigins(origins.filter((o) => o !== origin), tf("{origin} removed.", { origin })) }, t("Remove"))),
            ),
          )
        : h("p", { class: "channel-warn", id: "widget-no-origins" }, t("No site is allowed yet: the widget shows nowhere until you add one.")),
    );
  }

  function drawRotate() {
    mount(
      rotateHost,
      confirmButton({
        id: "widget-secret-rotate",
        label: t("Rotate secret"),
        question: t("Hashes made with the current secret stop working at once."),
        yes: t("Yes, rotate"),
        act: rotate,
      }),
    );
  }

  async function saveOrigins(origins, said) {
    originError.textContent = "";
    try {
      workspace = await api.patch("/workspace", { allowed_origins: origins });
      drawOrigins();
      announce(said);
      return true;
    } catch (failure) {
      if (failure.status !== 401) originError.textContent = refusal(failure, t("Not saved"));
      return false;
    }
  }

  async function addOrigin() {
    originError.textContent = "";
    originInput.removeAttribute("aria-invalid");
    const origin = originOf(originInput.value);
    if (!origin) {
      originError.textContent = t("Enter a site origin: http:// or https://, the host and an optional port, no path.");
      originInput.setAttribute("aria-invalid", "true");
      originInput.focus();
      return;
    }
    if (workspace.allowed_origins.includes(origin)) {
      originError.textContent = tf("{origin} is already allowed.", { origin });
      return;
    }
    if (await saveOrigins([...workspace.allowed_origins, origin], tf("{origin} added: the widget works there now.", { origin }))) {
      originInput.value = "";
      originInput.focus();
    }
  }

  async function saveTexts() {
    error.textContent = "";
    const body = { widget_greeting: greeting.value.trim(), widget_reply_time: replyTime.value.trim() };
    if (!body.widget_greeting || !body.widget_reply_time) {
      error.textContent = t("Enter both a greeting and a reply time.");
      (body.widget_greeting ? replyTime : greeting).focus();
      return;
    }
    textsButton.disabled = true;
    try {
      workspace = await api.patch("/workspace", body);
      announce(t("Widget texts saved."));
    } catch (failure) {
      if (failure.status !== 401) error.textContent = refusal(failure, t("Not saved"));
    } finally {
      textsButton.disabled = false;
    }
  }

  async function rotate() {
    try {
      secret = await api.post("/workspace/widget/secret");
      secretInput.value = secret.secret;
      announce(t("A new secret is in use: put it on your server now."));
    } catch (failure) {
      if (failure.status !== 401) announce(refusal(failure, t("Not rotated")));
    }
    drawRotate();
    document.getElementById("widget-secret-rotate")?.focus();
  }

  return {
    async load() {
      error.textContent = "";
      originError.textContent = "";
      const owner = can("manage_workspace");
      ownerParts.hidden = !owner;
      notOwner.hidden = owner;
      try {
        [workspace, secret] = await Promise.all([api.get("/workspace"), owner ? api.get("/workspace/widget") : null]);
      } catch (failure) {
        if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the widget's settings"));
        return;
      }
      greeting.value = workspace.widget_greeting;
      replyTime.value = workspace.widget_reply_time;
      secretInput.value = secret ? secret.secret : "";
      secretInput.type = "password";
      showButton.textContent = t("Show");
      showButton.setAttribute("aria-pressed", "false");
      drawSnippet();
      drawPreview();
      drawOrigins();
      drawRotate();
    },
  };
}

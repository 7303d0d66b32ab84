// Channels (#/channels, owners): connecting email through Postmark and WhatsApp through Meta's
// Cloud API. Email: connect (or regenerate) the webhook credentials, whose password shows only
// in that answer, then set the sending token and From address. WhatsApp: the number's ids and
// secrets, the callback URL and verify token to paste into Meta, and the approved templates.
// Secrets are never shown back. The server judges the input; its answer shows next to the
// field it is about.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { localTime } from "../format.js";
import { can } from "../store.js";
import { copyText } from "../clipboard.js";
import { t, tf } from "../i18n.js";

const SYNC_RECHECK = [2_000, 6_000]; // after asking for a template sync, read the channel again

const EMAIL_FIELDS = ["server_token", "from_address", "reply_address"];
const EMAIL_HINTS = {
  server_token: "Paste the Server API token from Postmark (Servers → your server → API Tokens).",
  from_address: "Enter an email address, like support@yourshop.com.",
  reply_address: "Enter an email address, or leave it empty to use the From address.",
};
const WA_FIELDS = ["phone_number_id", "waba_id", "access_token", "app_secret"];
const WA_HINTS = {
  phone_number_id: "The phone number ID is digits only (WhatsApp Manager → API setup).",
  waba_id: "The WhatsApp Business Account ID is digits only.",
  access_token: "Paste the access token (at least 10 characters).",
  app_secret: "Paste the app secret (at least 8 characters; Meta app dashboard → App settings → Basic).",
};

/** A read-only value with its label and a Copy button; `announce(text)` says whether it worked. */
function copyField(id, labelText, value, announce, note) {
  const input = h("input", { id, class: "copy-value", readonly: true, value, spellcheck: "false", "aria-describedby": note ? `${id}-note` : null });
  input.addEventListener("focus", () => input.select());
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, labelText),
    h(
      "div",
      { class: "copy-row" },
      input,
      h(
        "button",
        {
          type: "button",
          id: `${id}-copy`,
          "aria-label": tf("Copy {what}", { what: labelText.toLowerCase() }),
          onclick: async () => announce((await copyText(value, input)) ? tf("{what} copied.", { what: labelText }) : t("Could not copy: select the text and copy it yourself.")),
        },
        t("Copy"),
      ),
    ),
    note ? h("p", { class: "muted small", id: `${id}-note` }, note) : null,
  );
}

/** Inputs with their error lines, and how a server error finds its field. */
function fieldSet(prefix, names, hints) {
  const inputs = {};
  const errors = {};
  for (const name of names) {
    errors[name] = h("p", { class: "form-error", id: `${prefix}-${name}-error` });
  }
  const general = h("p", { class: "form-error", id: `${prefix}-form-error`, role: "alert" });
  return {
    inputs,
    errors,
    general,
    input(name, props) {
      inputs[name] = h("input", { id: `${prefix}-${name}`, name, autocomplete: "off", spellcheck: "false", "aria-describedby": `${prefix}-${name}-error`, ...props });
      return inputs[name];
    },
    field(name, labelText, hint) {
      return h(
        "div",
        { class: "field" },
        h("label", { for: `${prefix}-${name}` }, labelText),
        inputs[name],
        hint ? h("p", { class: "muted small" }, hint) : null,
        errors[name],
      );
    },
    clear() {
      for (const name of names) {
        errors[name].textContent = "";
        inputs[name].removeAttribute("aria-invalid");
      }
      general.textContent = "";
    },
    show(error, what) {
      if (error.status === 401) return; // login takes over
      const name = error.details && error.details.field;
      if (!names.includes(name)) {
        general.textContent = error.status === 403 ? t("Only the workspace owner can change channels.") : tf("{what}: {reason}", { what, reason: error.message });
        return;
      }
      errors[name].textContent = t(hints[name]);
      inputs[name].setAttribute("aria-invalid", "true");
      inputs[name].focus();
    },
  };
}

export function createChannelsView(root) {
  let drawnAllowed = null;
  let email = null; // GET /channels/email
  let emailSecret = null; // the answer of the PUT that made new credentials: shown this once
  let confirmingRegenerate = false;
  let whatsapp = null; // GET /channels/whatsapp
  let loadError = "";
  let syncTimers = [];

  const status = h("p", { class: "muted", id: "channels-status", role: "status", "aria-live": "polite" });
  const announce = (text) => {
    status.textContent = text;
  };

  // ---- email ----------------------------------------------------------------------------
  const emailState = h("div", { class: "channel-state", id: "email-state" });
  const emailConnect = h("div", { class: "channel-connect", id: "email-connect" });
  const emailUrls = h("div", { class: "channel-urls", id: "email-urls" });
  const sending = fieldSet("email", EMAIL_FIELDS, EMAIL_HINTS);
  sending.input("server_token", { type: "password", "aria-required": "true" });
  sending.input("from_address", { type: "email", "aria-required": "true" });
  sending.input("reply_address", { type: "email" });
  const sendingNow = h("p", { id: "email-sending-from", class: "channel-ok" });
  const sendingSave = h("button", { type: "submit", class: "primary", id: "email-sending-save" }, t("Save sending"));
  const sendingForm = h(
    "form",
    { class: "channel-form", id: "email-sending-form", "aria-labelledby": "email-sending-title", novalidate: true },
    h("h4", { id: "email-sending-title" }, t("Sending replies")),
    sendingNow,
    sending.field("server_token", t("Postmark server API token"), t("Postmark → Servers → your server → API Tokens. It is stored and never shown again.")),
    sending.field("from_address", t("From address"), t("A sender signature or a domain verified in Postmark.")),
    sending.field("reply_address", t("Reply-To address (optional)"), t("Where customers' answers go: Postmark's inbound address, or one of yours forwarded to it. The From address when empty.")),
    sending.general,
    h("div", { class: "form-actions" }, sendingSave),
  );
  sendingForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveSending();
  });
  const emailSection = h(
    "section",
    { class: "channel-card", id: "channel-email", "aria-labelledby": "channel-email-title" },
    h("h3", { id: "channel-email-title" }, t("Email (Postmark)")),
    h("p", { class: "muted" }, t("Customers' emails arrive through Postmark's inbound webhook; replies go out through your Postmark server.")),
    emailState,
    emailConnect,
    emailUrls,
    sendingForm,
  );

  // ---- WhatsApp --------------------------------------------------------------------------
  const waState = h("div", { class: "channel-state", id: "whatsapp-state" });
  const wa = fieldSet("whatsapp", WA_FIELDS, WA_HINTS);
  wa.input("phone_number_id", { inputmode: "numeric", "aria-required": "true" });
  wa.input("waba_id", { inputmode: "numeric", "aria-required": "true" });
  wa.input("access_token", { type: "password", "aria-required": "true" });
  wa.input("app_secret", { type: "password", "aria-required": "true" });
  const waSave = h("button", { type: "submit", class: "primary", id: "whatsapp-save" }, t("Connect WhatsApp"));
  const waSecretsNote = h("p", { class: "muted small", id: "whatsapp-secrets-note" });
  const waForm = h(
    "form",
    { class: "channel-form", id: "whatsapp-form", "aria-labelledby": "whatsapp-form-title", novalidate: true },
    h("h4", { id: "whatsapp-form-title" }, t("Your number")),
    wa.field("phone_number_id", t("Phone number ID"), t("WhatsApp Manager → API setup: “Phone number ID” (not the phone number itself).")),
    wa.field("waba_id", t("WhatsApp Business Account ID")),
    wa.field("access_token", t("Access token"), t("A system user's permanent token with whatsapp_business_messaging and whatsapp_business_management.")),
    wa.field("app_secret", t("App secret"), t("Meta app dashboard → App settings → Basic. Tandem checks every webhook's signature with it.")),
    waSecretsNote,
    wa.general,
    h("div", { class: "form-actions" }, waSave),
  );
  waForm.addEventListener("submit", (event) => {
    event.preventDefault();
    connectWhatsApp();
  });
  const waWebhook = h("div", { class: "channel-urls", id: "whatsapp-webhook" });
  const waTemplates = h("div", { class: "channel-templates", id: "whatsapp-templates" });
  const waSection = h(
    "section",
    { class: "channel-card", id: "channel-whatsapp", "aria-labelledby": "channel-whatsapp-title" },
    h("h3", { id: "channel-whatsapp-title" }, t("WhatsApp (Cloud API)")),
    h("p", { class: "muted" }, t("Customers' WhatsApp messages arrive through Meta's webhook; replies go out through the Cloud API from your number.")),
    waState,
    waForm,
    waWebhook,
    waTemplates,
  );

  const loadLine = h("p", { class: "form-error", id: "channels-load-error", role: "alert" });
  const page = h("div", { class: "channels-page-body" }, h("h2", {}, t("Channels")), h("p", { class: "muted" }, t("Connect the ways customers reach you. Only the workspace owner sees this page.")), loadLine, status, emailSection, waSection);
  const refusal = h("div", { class: "channels-page-body" }, h("h2", {}, t("Channels")), h("p", { class: "form-error", role: "alert", id: "channels-refused" }, t("Only the workspace owner can connect channels.")));

  // ---- drawing ---------------------------------------------------------------------------

  function drawEmail() {
    if (!email) {
      mount(emailState, h("p", { class: "muted" }, loadError ? "" : t("Loading…")));
      emailConnect.replaceChildren();
      emailUrls.replaceChildren();
      sendingForm.hidden = true;
      return;
    }
    mount(
      emailState,
      email.connected
        ? h("p", { class: "channel-ok" }, tf("Connected since {time}.", { time: localTime(email.connected_at) }))
        : h("p", {}, t("Not connected. Connecting makes the webhook URLs to paste into Postmark.")),
    );
    drawEmailConnect();
    drawEmailUrls();
    sendingForm.hidden = !email.connected;
    sendingNow.textContent = email.sending_from
      ? email.reply_address && email.reply_address !== email.sending_from
        ? tf("Sending from {from}; answers come back to {reply}.", { from: email.sending_from, reply: email.reply_address })
        : tf("Sending from {from}.", { from: email.sending_from })
      : t("Replies cannot go out by email until sending is set.");
    sendingNow.className = email.sending_from ? "channel-ok" : "channel-warn";
    sendingSave.textContent = email.sending_from ? t("Change sending") : t("Save sending");
  }

  function drawEmailConnect() {
    if (!email.connected) {
      mount(emailConnect, h("button", { type: "button", class: "primary", id: "email-connect-button", onclick: () => connectEmail() }, t("Connect email")));
      return;
    }
    if (confirmingRegenerate) {
      mount(
        emailConnect,
        h(
          "div",
          { class: "confirm-box", role: "group", "aria-labelledby": "email-regenerate-question" },
          h("p", { id: "email-regenerate-question" }, t("Make new webhook credentials? The URLs pasted in Postmark stop working at once (Postmark retries for a while): paste the new ones there. How replies are sent stays as it is.")),
          h("button", { type: "button", class: "danger", id: "email-regenerate-confirm", onclick: () => connectEmail() }, t("Yes, regenerate")),
          " ",
          h("button", { type: "button", id: "email-regenerate-keep", onclick: () => { confirmingRegenerate = false; drawEmail(); document.getElementById("email-regenerate")?.focus(); } }, t("Keep the current ones")),
        ),
      );
      return;
    }
    mount(
      emailConnect,
      h("button", { type: "button", id: "email-regenerate", onclick: () => { confirmingRegenerate = true; drawEmail(); document.getElementById("email-regenerate-confirm")?.focus(); } }, t("Regenerate webhook credentials")),
      " ",
      disconnectButton("email", t("Disconnect email"), t("Postmark's webhooks will be refused and replies will not go out by email. Conversations stay.")),
    );
  }

  // A two-step "Disconnect" for a channel: the first click asks, the second disconnects.
  function disconnectButton(channel, label, consequence) {
    const box = h("span", { class: "disconnect" });
    const ask = h("button", { type: "button", class: "danger", id: `${channel}-disconnect` }, label);
    ask.addEventListener("click", () => {
      mount(
        box,
        h("span", { role: "group", "aria-label": label }, `${consequence} `,
          h("button", { type: "button", class: "danger", id: `${channel}-disconnect-confirm`, onclick: () => disconnect(channel) }, t("Yes, disconnect")),
          " ",
          h("button", { type: "button", onclick: () => mount(box, ask) }, t("Keep it"))),
      );
      document.getElementById(`${channel}-disconnect-confirm`)?.focus();
    });
    mount(box, ask);
    return box;
  }

  async function disconnect(channel) {
    try {
      await api.request("DELETE", `/channels/${channel}`);
      announce(channel === "email" ? t("Email disconnected.") : t("WhatsApp disconnected."));
      await load();
    } catch (error) {
      if (error.status === 401) return;
      announce(tf("Not disconnected: {reason}", { reason: error.message }));
    }
  }

  function drawEmailUrls() {
    if (!email.connected) {
      emailUrls.replaceChildren();
      return;
    }
    const shown = emailSecret || email;
    const where = [
      h("li", {}, t("Inbound webhook URL: in Postmark, Servers → your server → Settings → Inbound → Webhook URL.")),
      h("li", {}, t("Events webhook URL: Webhooks → Add webhook, with the Delivery, Bounce and Open events ticked.")),
    ];
    mount(
      emailUrls,
      emailSecret
        ? h(
            "div",
            { class: "secret-notice", id: "email-secret-notice", role: "alert" },
            h("strong", {}, t("Copy these URLs now: ")),
            t("the password in them will not be shown again. Regenerating makes new ones and breaks the old URLs."),
          )
        : h("p", { class: "muted small", id: "email-no-secret" }, t("The password in these URLs is shown only when the credentials are made; regenerate them if you no longer have it.")),
      copyField("email-inbound-url", t("Inbound webhook URL"), shown.inbound_webhook_url || "", announce),
      copyField("email-events-url", t("Events webhook URL"), shown.events_webhook_url || "", announce),
      h("ul", { class: "channel-steps" }, where),
    );
  }

  function drawWhatsApp() {
    if (!whatsapp) {
      mount(waState, h("p", { class: "muted" }, loadError ? "" : t("Loading…")));
      waWebhook.replaceChildren();
      waTemplates.replaceChildren();
      return;
    }
    mount(
      waState,
      whatsapp.connected
        ? h("p", { class: "channel-ok" }, tf("Connected: number ID {number}, account {account}, since {time}.", { number: whatsapp.phone_number_id, account: whatsapp.waba_id, time: localTime(whatsapp.connected_at) }))
        : h("p", {}, t("Not connected.")),
    );
    waSave.textContent = whatsapp.connected ? t("Save and reconnect") : t("Connect WhatsApp");
    waSecretsNote.textContent = whatsapp.connected
      ? t("The access token and app secret are stored and never shown again: enter both to change the connection. The webhook URL and verify token stay the same.")
      : "";
    if (!whatsapp.connected) {
      waWebhook.replaceChildren();
      waTemplates.replaceChildren();
      return;
    }
    mount(
      waWebhook,
      h("h4", {}, t("Webhook in Meta")),
      copyField("whatsapp-webhook-url", t("Callback URL"), whatsapp.webhook_url || "", announce),
      copyField("whatsapp-verify-token", t("Verify token"), whatsapp.verify_token || "", announce),
      h(
        "ol",
        { class: "channel-steps" },
        h("li", {}, t("In the Meta app dashboard, open WhatsApp → Configuration → Webhook and choose Edit.")),
        h("li", {}, t("Paste the callback URL and the verify token, then Verify and save.")),
        h("li", {}, t("Under Webhook fields, subscribe to the messages field.")),
      ),
    );
    drawTemplates();
  }

  function drawTemplates() {
    const templates = whatsapp.templates || [];
    mount(
      waTemplates,
      h("h4", {}, t("Message templates")),
      h("p", { class: "muted small" }, t("After 24 hours without a message from the customer, WhatsApp delivers only templates approved in WhatsApp Manager; agents pick one in the composer.")),
      h(
        "p",
        { id: "whatsapp-synced" },
        whatsapp.templates_synced_at ? tf("Last synced {time}.", { time: localTime(whatsapp.templates_synced_at) }) : t("Not synced yet."),
        " ",
        h("button", { type: "button", id: "whatsapp-sync", onclick: () => syncTemplates() }, t("Sync templates")),
        " ",
        h("button", { type: "button", id: "whatsapp-refresh", onclick: () => refreshWhatsApp(true) }, t("Refresh")),
      ),
      h("p", {}, disconnectButton("whatsapp", t("Disconnect WhatsApp"), t("Meta's webhooks will be refused and replies will not go out on WhatsApp. Conversations stay."))),
      whatsapp.templates_error ? h("p", { class: "form-error", id: "whatsapp-templates-error" }, tf("The last sync failed: {reason}", { reason: whatsapp.templates_error })) : null,
      templates.length
        ? h(
            "table",
            { class: "channel-table", id: "whatsapp-template-list" },
            h("caption", { class: "sr-only" }, t("Approved templates")),
            h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Name")), h("th", { scope: "col" }, t("Language")), h("th", { scope: "col" }, t("Category")), h("th", { scope: "col" }, t("Text")), h("th", { scope: "col" }, t("Parameters")))),
            h(
              "tbody",
              {},
              templates.map((t) => h("tr", {}, h("th", { scope: "row", class: "template-name" }, t.name), h("td", {}, t.language), h("td", {}, t.category), h("td", { class: "template-body" }, t.body_text), h("td", {}, String(t.param_count)))),
            ),
          )
        : h("p", { class: "muted", id: "whatsapp-no-templates" }, t("No approved templates yet.")),
    );
  }

  // ---- actions ---------------------------------------------------------------------------

  async function connectEmail() {
    const buttons = emailConnect.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    try {
      emailSecret = await api.request("PUT", "/channels/email");
      email = emailSecret;
      confirmingRegenerate = false;
      announce(t("Email connected: copy the webhook URLs into Postmark now."));
      drawEmail();
      document.getElementById("email-inbound-url-copy")?.focus();
    } catch (error) {
      for (const button of buttons) button.disabled = false;
      if (error.status === 401) return;
      announce(error.status === 403 ? t("Only the workspace owner can connect email.") : tf("Not connected: {reason}", { reason: error.message }));
    }
  }

  async function saveSending() {
    sending.clear();
    const reply = sending.inputs.reply_address.value.trim();
    const values = {
      server_token: sending.inputs.server_token.value.trim(),
      from_address: sending.inputs.from_address.value.trim(),
      reply_address: reply || null,
    };
    sendingSave.disabled = true;
    try {
      const answer = await api.patch("/channels/email", values);
      email = answer; // the URLs made a moment ago, if any, stay on show (emailSecret)
      sending.inputs.server_token.value = "";
      announce(tf("Saved: replies go out from {from}.", { from: answer.sending_from }));
      drawEmail();
    } catch (error) {
      sending.show(error, t("Not saved"));
      if (error.status === 404) refreshEmail(); // not connected any more
    } finally {
      sendingSave.disabled = false;
    }
  }

  async function connectWhatsApp() {
    wa.clear();
    const values = {};
    for (const name of WA_FIELDS) values[name] = wa.inputs[name].value.trim();
    waSave.disabled = true;
    try {
      whatsapp = await api.request("PUT", "/channels/whatsapp", values);
      wa.inputs.access_token.value = "";
      wa.inputs.app_secret.value = "";
      announce(t("WhatsApp connected: paste the callback URL and verify token into Meta's app dashboard."));
      drawWhatsApp();
      fillWhatsAppIds();
      scheduleSyncChecks();
    } catch (error) {
      wa.show(error, t("Not connected"));
    } finally {
      waSave.disabled = false;
    }
  }

  async function syncTemplates() {
    try {
      const answer = await api.post("/channels/whatsapp/templates/sync");
      announce(answer.queued ? t("Fetching the templates from WhatsApp…") : t("The sync could not be queued now; try again in a while."));
      if (answer.queued) scheduleSyncChecks();
    } catch (error) {
      if (error.status === 401) return;
      announce(tf("Not synced: {reason}", { reason: error.message }));
      if (error.status === 404) refreshWhatsApp(false);
    }
  }

  function scheduleSyncChecks() {
    for (const timer of syncTimers) clearTimeout(timer);
    syncTimers = SYNC_RECHECK.map((wait) => setTimeout(() => refreshWhatsApp(false), wait));
  }

  // ---- loading ---------------------------------------------------------------------------

  async function refreshEmail() {
    try {
      email = await api.get("/channels/email");
      emailSecret = null;
      drawEmail();
    } catch (error) {
      if (error.status !== 401) announce(tf("Could not read the email channel: {reason}", { reason: error.message }));
    }
  }

  async function refreshWhatsApp(said) {
    try {
      whatsapp = await api.get("/channels/whatsapp");
      drawWhatsApp();
      if (said) announce(t("Templates read again."));
    } catch (error) {
      if (error.status !== 401) announce(tf("Could not read the WhatsApp channel: {reason}", { reason: error.message }));
    }
  }

  function fillWhatsAppIds() {
    if (!whatsapp || !whatsapp.connected) return;
    for (const name of ["phone_number_id", "waba_id"]) {
      if (!wa.inputs[name].value) wa.inputs[name].value = whatsapp[name] || "";
    }
  }

  /** Read both channels again (the page was opened). Credentials shown once are gone now. */
  async function load() {
    if (!can("manage_workspace")) return;
    emailSecret = null;
    confirmingRegenerate = false;
    loadError = "";
    loadLine.textContent = "";
    status.textContent = "";
    sending.clear();
    wa.clear();
    try {
      [email, whatsapp] = await Promise.all([api.get("/channels/email"), api.get("/channels/whatsapp")]);
    } catch (error) {
      if (error.status === 401) return;
      loadError = error.message;
      loadLine.textContent = tf("Could not read the channels: {reason}", { reason: error.message });
    }
    drawEmail();
    drawWhatsApp();
    fillWhatsAppIds();
  }

  function render() {
    const allowed = can("manage_workspace");
    if (allowed === drawnAllowed) return;
    drawnAllowed = allowed;
    mount(root, allowed ? page : refusal);
    if (allowed) {
      drawEmail();
      drawWhatsApp();
    }
  }

  return { render, load };
}

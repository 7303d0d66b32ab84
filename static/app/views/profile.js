// The profile of the person logged in (#/profile): name, the app's language, the email
// address and whether it is confirmed (with a new link on request), and the password.

import * as api from "../api.js";
import { setLanguage, t } from "../i18n.js";
import { askPermission, notificationPermission, setSound, soundOn } from "../notify.js";
import { h, mount } from "../dom.js";
import { state, update } from "../store.js";
import { createSessionsCard } from "./profile_sessions.js";

const LANGUAGES = [
  ["en", "English"],
  ["es", "Español"],
  ["de", "Deutsch"],
  ["fr", "Français"],
  ["pt", "Português"],
];

function initials(name) {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((part) => part[0].toUpperCase()).join("");
}

export function createProfileView(root) {
  let profile = null;
  let built = false;
  const status = h("p", { class: "form-notice", id: "profile-status", role: "status" });
  const error = h("p", { class: "form-error", id: "profile-error", role: "alert" });
  const name = h("input", { id: "profile-name", name: "name", required: true, autocomplete: "name", maxlength: 200 });
  const language = h("select", { id: "profile-language", name: "language" }, LANGUAGES.map(([code, label]) => h("option", { value: code }, label)));
  const email = h("p", { id: "profile-email" });
  const current = h("input", { id: "profile-current-password", type: "password", required: true, autocomplete: "current-password" });
  const fresh = h("input", { id: "profile-new-password", type: "password", required: true, autocomplete: "new-password", minlength: 10, "aria-describedby": "profile-new-password-hint" });
  const passwordError = h("p", { class: "form-error", id: "profile-password-error", role: "alert" });
  const picture = h("div", { class: "avatar-preview", id: "profile-avatar" });
  const pictureError = h("p", { class: "form-error", id: "profile-picture-error", role: "alert" });
  const pictureInput = h("input", { id: "profile-picture", type: "file", accept: "image/png,image/jpeg,image/gif,image/webp" });
  const notifications = h("div", { class: "profile-notify", id: "profile-notify" });
  const sessions = createSessionsCard();

  async function run(button, errorLine, work) {
    button.disabled = true;
    errorLine.textContent = "";
    status.textContent = "";
    try {
      await work();
    } catch (failure) {
      errorLine.textContent = failure.message;
    } finally {
      button.disabled = false;
    }
  }

  function drawEmail() {
    if (!profile) return;
    const resend = h("button", { type: "button", id: "profile-resend" }, "Send the confirmation link again");
    resend.addEventListener("click", () => run(resend, error, async () => {
      status.textContent = (await api.post("/me/verify-email")).message;
    }));
    mount(
      email,
      h("strong", {}, profile.email),
      profile.email_verified ? h("span", { class: "badge ok" }, " confirmed") : [h("span", { class: "badge warn" }, " not confirmed yet"), " ", resend],
    );
  }

  function drawPicture() {
    if (!profile) return;
    const remove = h("button", { type: "button", id: "profile-picture-remove" }, t("Remove picture"));
    remove.addEventListener("click", () => run(remove, pictureError, async () => {
      profile = await api.del("/me/avatar");
      update({ me: { ...state.me, avatar_url: null } });
      drawPicture();
    }));
    mount(
      picture,
      profile.avatar_url
        ? [h("img", { src: profile.avatar_url, alt: t("Your picture"), width: 72, height: 72 }), remove]
        : h("span", { class: "avatar-initials", "aria-hidden": "true" }, initials(profile.name)),
    );
  }

  function drawNotifications() {
    const permission = notificationPermission();
    const words = {
      granted: t("Desktop notifications are on in this browser."),
      denied: t("Desktop notifications are blocked in this browser's site settings."),
      unsupported: t("This browser cannot show desktop notifications."),
    };
    const ask = h("button", { type: "button", id: "profile-notify-enable" }, t("Turn on desktop notifications"));
    ask.addEventListener("click", async () => {
      await askPermission();
      drawNotifications();
    });
    const sound = h("input", { type: "checkbox", id: "profile-notify-sound", checked: soundOn() });
    sound.addEventListener("change", () => setSound(sound.checked));
    mount(
      notifications,
      h("p", {}, t("For conversations assigned to you, your customers' replies and notes that mention you.")),
      words[permission] ? h("p", { id: "profile-notify-state" }, words[permission]) : ask,
      h("label", { class: "check" }, sound, " ", t("Play a sound")),
    );
  }

  function build() {
    const save = h("button", { type: "submit", class: "primary" }, t("Save"));
    const details = h(
      "form",
      { class: "profile-card", "aria-labelledby": "profile-details-title" },
      h("h3", { id: "profile-details-title" }, "You"),
      h("label", { for: name.id }, t("Name")),
      name,
      h("label", { for: language.id }, t("Language")),
      language,
      h("p", { class: "field-hint" }, "The app's language, and the one AI translates customers' messages into."),
      h("p", { class: "label" }, t("Email")),
      email,
      error,
      save,
    );
    details.addEventListener("submit", (event) => {
      event.preventDefault();
      run(save, error, async () => {
        profile = await api.patch("/me/profile", { name: name.value.trim(), language: language.value });
        update({ me: { ...state.me, name: profile.name, language: profile.language } });
        setLanguage(profile.language);
        status.textContent = "Saved.";
      });
    });
    const change = h("button", { type: "submit", class: "primary" }, t("Change password"));
    const password = h(
      "form",
      { class: "profile-card", "aria-labelledby": "profile-password-title" },
      h("h3", { id: "profile-password-title" }, t("Password")),
      h("label", { for: current.id }, t("Current password")),
      current,
      h("label", { for: fresh.id }, t("New password")),
      fresh,
      h("p", { class: "field-hint", id: "profile-new-password-hint" }, "At least 10 characters. Your other sessions will be logged out."),
      passwordError,
      change,
    );
    password.addEventListener("submit", (event) => {
      event.preventDefault();
      run(change, passwordError, async () => {
        const answer = await api.post("/me/password", { current_password: current.value, new_password: fresh.value });
        api.setCsrf(answer.csrf_token);
        current.value = "";
        fresh.value = "";
        status.textContent = "Password changed. Other sessions are logged out.";
        await sessions.load();
      });
    });
    pictureInput.addEventListener("change", () => {
      const file = pictureInput.files && pictureInput.files[0];
      if (!file) return;
      run(pictureInput, pictureError, async () => {
        profile = await api.upload("/me/avatar", file, { method: "PUT" });
        update({ me: { ...state.me, avatar_url: profile.avatar_url } });
        drawPicture();
        status.textContent = t("Picture saved.");
      }).finally(() => {
        pictureInput.value = "";
      });
    });
    const pictureCard = h(
      "section",
      { class: "profile-card", "aria-labelledby": "profile-picture-title" },
      h("h3", { id: "profile-picture-title" }, t("Picture")),
      picture,
      h("label", { for: pictureInput.id }, t("Choose a picture")),
      pictureInput,
      h("p", { class: "field-hint" }, t("A PNG, JPEG, GIF or WebP image, at most 1 MB. Your teammates see it.")),
      pictureError,
    );
    const notifyCard = h(
      "section",
      { class: "profile-card", "aria-labelledby": "profile-notify-title" },
      h("h3", { id: "profile-notify-title" }, t("Notifications")),
      notifications,
    );
    drawNotifications();
    mount(
      root,
      h("h2", {}, t("Profile")),
      h("p", { class: "muted" }, `${state.me.workspace.name} — workspace address: `, h("strong", {}, state.me.workspace.slug)),
      status,
      h("div", { class: "profile-grid" }, details, pictureCard, password, notifyCard, sessions.node),
    );
    built = true;
  }

  return {
    async open() {
      if (!built) build();
      try {
        profile = await api.get("/me/profile");
        name.value = profile.name;
        language.value = profile.language;
        drawEmail();
        drawPicture();
        drawNotifications();
        await sessions.load();
      } catch (failure) {
        error.textContent = failure.message;
      }
    },
    render() {
      if (!built) build();
    },
  };
}

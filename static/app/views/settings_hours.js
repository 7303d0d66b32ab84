// Settings → Hours and time zone: the workspace's IANA time zone (where "today" begins on the
// dashboard) and its weekly opening hours, a day at a time.

import * as api from "../api.js";
import { h, mount } from "../dom.js";
import { can } from "../store.js";
import { t, tf } from "../i18n.js";
import { refusal } from "./settings_common.js";

const DAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
];

function zones(current) {
  let names = [];
  try {
    names = Intl.supportedValuesOf("timeZone");
  } catch {
    names = [];
  }
  return [...new Set(["UTC", current, ...names])].filter(Boolean).sort((a, b) => (a === "UTC" ? -1 : b === "UTC" ? 1 : a.localeCompare(b)));
}

export function createHoursSection(root, { announce, title, id }) {
  const error = h("p", { class: "form-error", id: "hours-error", role: "alert" });
  const zone = h("select", { id: "hours-timezone", "aria-describedby": "hours-timezone-note" });
  const rows = {};
  const body = h("tbody", {});
  for (const [day, english] of DAYS) {
    const name = t(english);
    const open = h("input", { type: "checkbox", id: `hours-${day}-open`, onchange: () => sync(day) });
    const from = h("input", { type: "time", id: `hours-${day}-from`, value: "09:00", "aria-label": tf("{day} opens at", { day: name }) });
    const to = h("input", { type: "time", id: `hours-${day}-to`, value: "17:00", "aria-label": tf("{day} closes at", { day: name }) });
    const note = h("span", { class: "form-error small", id: `hours-${day}-error` });
    rows[day] = { open, from, to, note, name };
    body.append(
      h(
        "tr",
        { dataset: { day } },
        h("th", { scope: "row" }, h("label", { class: "check" }, open, ` ${name}`)),
        h("td", {}, from),
        h("td", {}, to),
        h("td", {}, note),
      ),
    );
  }
  const save = h("button", { type: "submit", class: "primary", id: "hours-save" }, t("Save hours"));
  const fields = h(
    "fieldset",
    { class: "plain" },
    h("legend", { class: "sr-only" }, t("Time zone and opening hours")),
    h(
      "div",
      { class: "field" },
      h("label", { for: "hours-timezone" }, t("Time zone")),
      zone,
      h("p", { class: "muted small", id: "hours-timezone-note" }, t("Opening hours and the dashboard's “today” follow this zone.")),
    ),
    h(
      "div",
      { class: "table-scroll" },
      h(
        "table",
        { class: "settings-table hours-table", id: "hours-table" },
        h("caption", { class: "sr-only" }, t("Opening hours by weekday")),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Open on")), h("th", { scope: "col" }, t("Opens")), h("th", { scope: "col" }, t("Closes")), h("td", {}))),
        body,
      ),
    ),
    h("div", { class: "form-actions" }, save),
  );
  const form = h("form", { class: "settings-form", id: "hours-form", "aria-labelledby": id, novalidate: true }, fields);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  const ownerOnly = h("p", { class: "muted", id: "hours-owner-only" }, t("Only the workspace owner can change the time zone and hours."));
  mount(root, h("h3", { id }, title), h("p", { class: "muted" }, t("When your team answers. A day left unticked is closed.")), ownerOnly, error, form);

  function sync(day) {
    const row = rows[day];
    row.from.disabled = !row.open.checked;
    row.to.disabled = !row.open.checked;
  }

  function fill(workspace) {
    mount(zone, zones(workspace.timezone).map((z) => h("option", { value: z, selected: z === workspace.timezone }, z)));
    for (const [day] of DAYS) {
      const span = workspace.business_hours[day];
      const row = rows[day];
      row.open.checked = Boolean(span);
      if (span) {
        row.from.value = span.open;
        row.to.value = span.close === "24:00" ? "23:59" : span.close;
      }
      row.note.textContent = "";
      sync(day);
    }
  }

  async function submit() {
    error.textContent = "";
    const hours = {};
    let wrong = null;
    for (const [day] of DAYS) {
      const row = rows[day];
      row.note.textContent = "";
      row.to.removeAttribute("aria-invalid");
      if (!row.open.checked) continue;
      const close = row.to.value === "23:59" ? "24:00" : row.to.value;
      if (!row.from.value || !row.to.value || close <= row.from.value) {
        row.note.textContent = t("Closes after it opens.");
        row.to.setAttribute("aria-invalid", "true");
        wrong = wrong || row.to;
        continue;
      }
      hours[day] = { open: row.from.value, close };
    }
    if (wrong) {
      error.textContent = t("Some days close before they open.");
      wrong.focus();
      return;
    }
    save.disabled = true;
    try {
      const workspace = await api.patch("/workspace", { timezone: zone.value, business_hours: hours });
      fill(workspace);
      announce(tf("Hours saved, in {zone}.", { zone: workspace.timezone }));
    } catch (failure) {
      if (failure.status === 401) return;
      error.textContent = refusal(failure, t("Not saved"));
      const field = (failure.details && failure.details.field) || "";
      const day = field.split(".")[1];
      if (rows[day]) rows[day].note.textContent = failure.message;
    } finally {
      save.disabled = false;
    }
  }

  return {
    async load() {
      error.textContent = "";
      const owner = can("manage_workspace");
      ownerOnly.hidden = owner;
      fields.disabled = !owner;
      try {
        fill(await api.get("/workspace"));
      } catch (failure) {
        if (failure.status !== 401) error.textContent = refusal(failure, t("Could not read the hours"));
      }
      if (!owner) fields.disabled = true;
    },
  };
}

// The contact sidebar: who the customer is (identifiers) and their other tickets.

import { h, mount } from "../dom.js";
import { state } from "../store.js";
import { t } from "../i18n.js";

export function renderContact(root) {
  const open = state.open;
  const contact = open && open.contact;
  if (!contact) {
    mount(root, h("h2", {}, t("Contact")), h("p", { class: "muted" }, open && open.id ? t("No contact details.") : ""));
    return;
  }
  // An address a widget visitor typed: anyone could have, so it is marked and matches nothing.
  const email = contact.email && contact.email_verified === false
    ? [contact.email, h("span", { class: "badge unverified", title: t("Typed in the chat widget; not proven to be this customer's.") }, t("unverified"))]
    : contact.email;
  const fields = [
    [t("Email"), email],
    [t("Phone"), contact.phone],
    ["WhatsApp", contact.whatsapp_id],
    [t("External id"), contact.external_id],
  ].filter(([, value]) => value);
  const others = (open.contactTickets || []).filter((id) => id !== open.id).map((id) => state.tickets[id]).filter(Boolean);
  mount(
    root,
    h("h2", {}, t("Contact")),
    h("p", { class: "contact-name" }, contact.name || t("Unnamed visitor"), contact.verified ? h("span", { class: "badge verified" }, t("verified")) : null),
    fields.length
      ? h("dl", { class: "identifiers" }, fields.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]))
      : h("p", { class: "muted" }, t("No identifiers yet.")),
    contact.email_bounce
      ? h("p", { class: "delivery-failed small", title: contact.email_bounce }, t("Email to this address bounced; replies will not be sent until it is corrected."))
      : null,
    h("h3", {}, t("Other tickets")),
    others.length
      ? h(
          "ul",
          { class: "other-tickets" },
          others.map((other) => h("li", {}, h("a", { href: `#/tickets/${other.id}` }, `#${other.number} ${other.subject}`), " ", h("span", { class: `badge status-${other.status}` }, t(other.status)))),
        )
      : h("p", { class: "muted" }, t("None.")),
  );
}

// The contact sidebar: who the customer is (identifiers) and their other tickets.

import { h, mount } from "../dom.js";
import { state } from "../store.js";

export function renderContact(root) {
  const open = state.open;
  const contact = open && open.contact;
  if (!contact) {
    mount(root, h("h2", {}, "Contact"), h("p", { class: "muted" }, open && open.id ? "No contact details." : ""));
    return;
  }
  const fields = [
    ["Email", contact.email],
    ["Phone", contact.phone],
    ["WhatsApp", contact.whatsapp_id],
    ["External id", contact.external_id],
  ].filter(([, value]) => value);
  const others = (open.contactTickets || []).filter((id) => id !== open.id).map((id) => state.tickets[id]).filter(Boolean);
  mount(
    root,
    h("h2", {}, "Contact"),
    h("p", { class: "contact-name" }, contact.name || "Unnamed visitor", contact.verified ? h("span", { class: "badge verified" }, "verified") : null),
    fields.length
      ? h("dl", { class: "identifiers" }, fields.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value)]))
      : h("p", { class: "muted" }, "No identifiers yet."),
    contact.email_bounce
      ? h("p", { class: "delivery-failed small", title: contact.email_bounce }, "Email to this address bounced; replies will not be sent until it is corrected.")
      : null,
    h("h3", {}, "Other tickets"),
    others.length
      ? h(
          "ul",
          { class: "other-tickets" },
          others.map((t) => h("li", {}, h("a", { href: `#/tickets/${t.id}` }, `#${t.number} ${t.subject}`), " ", h("span", { class: `badge status-${t.status}` }, t.status))),
        )
      : h("p", { class: "muted" }, "None."),
  );
}

// The conversation: customer messages, replies, private notes and system lines, each drawn
// differently, all as text.

import { h, mount } from "../dom.js";
import { clock } from "../format.js";

export function renderThread(root, messages, customerName = "Customer") {
  const nearBottom = root.scrollHeight - root.scrollTop - root.clientHeight < 80;
  if (messages === null) {
    mount(root, h("p", { class: "muted" }, "Loading the conversation…"));
    return;
  }
  mount(
    root,
    h("h3", { class: "sr-only" }, "Conversation"),
    h("ol", { class: "thread-list" }, messages.map((m) => message(m, customerName))),
  );
  if (nearBottom || root.dataset.drawn !== "yes") root.scrollTop = root.scrollHeight;
  root.dataset.drawn = "yes";
}

function message(m, customerName) {
  if (m.kind === "system") {
    return h("li", { class: "msg msg-system", dataset: { id: m.id } }, h("span", { class: "msg-text" }, m.text), " · ", h("time", { datetime: m.created_at || "" }, clock(m.created_at)));
  }
  const note = m.kind === "note";
  const incoming = m.direction === "in";
  const kind = note ? "msg-note" : incoming ? "msg-in" : "msg-out";
  const label = note ? "Private note" : incoming ? "Customer" : "Reply";
  return h(
    "li",
    { class: `msg ${kind}`, dataset: { id: m.id } },
    h(
      "div",
      { class: "msg-meta" },
      h("span", { class: "msg-kind" }, label),
      h("strong", { class: "msg-author" }, (m.author && m.author.name) || (incoming ? customerName : "Agent")),
      h("time", { datetime: m.created_at || "" }, clock(m.created_at)),
      m.delivery_status && !incoming && !note
        ? h(
            "span",
            { class: m.delivery_status === "failed" ? "delivery-failed" : "muted" },
            m.delivery_status === "failed" ? `not delivered: ${m.delivery_error || "no reason given"}` : m.delivery_status,
          )
        : null,
    ),
    h("div", { class: "msg-text" }, m.text),
  );
}

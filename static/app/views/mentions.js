// Notes that mention me (#/mentions): newest first, each linking to its ticket, a page at a
// time. A note that mentions me while the page is open comes in at the top by itself.

import * as api from "../api.js";
import { query } from "../api.js";
import { h, mount, preservingFocus } from "../dom.js";
import { clock } from "../format.js";
import { state, subscribe } from "../store.js";
import { t, tf } from "../i18n.js";

const PAGE = 20;

export function createMentionsView(root) {
  const view = { items: null, cursor: null, error: "", loading: false, open: false };
  const known = new Set();

  async function load(more) {
    if (view.loading) return;
    view.loading = true;
    view.error = "";
    draw();
    try {
      const page = await api.get("/mentions" + query({ limit: PAGE, cursor: more ? view.cursor : "" }));
      const items = more ? [...(view.items || []), ...page.items] : page.items;
      view.items = items.filter((m, i) => items.findIndex((x) => x.message_id === m.message_id) === i);
      for (const m of view.items) known.add(m.message_id);
      view.cursor = page.next_cursor;
    } catch (error) {
      view.error = error.message;
    }
    view.loading = false;
    draw();
  }

  // A note that mentions me arrives as an event: put it at the top while the page is shown.
  let lastCount = 0;
  subscribe(() => {
    if (!view.open || !view.items || !state.me) return;
    const fresh = state.lastMention;
    if (!fresh || known.has(fresh.message_id) || lastCount === fresh.n) return;
    lastCount = fresh.n;
    known.add(fresh.message_id);
    view.items = [fresh, ...view.items];
    draw();
  });

  function draw() {
    if (!view.open) return;
    preservingFocus(root, () =>
      mount(
        root,
        h("h2", { id: "mentions-title" }, t("Mentions")),
        h("p", { class: "muted" }, t("Private notes that mention you, newest first.")),
        view.error ? h("p", { class: "form-error", role: "alert" }, tf("Could not load your mentions: {reason}", { reason: view.error })) : null,
        view.items === null
          ? h("p", { class: "muted" }, t("Loading…"))
          : view.items.length
            ? h("ol", { class: "mention-list", "aria-labelledby": "mentions-title" }, view.items.map(item))
            : h("p", { class: "empty" }, t("No one has mentioned you yet. A note with @ and your name shows up here.")),
        view.cursor
          ? h("button", { type: "button", id: "mentions-more", class: "more", disabled: view.loading, onclick: () => load(true) }, t("Show older"))
          : null,
      ),
    );
  }

  return {
    open() {
      view.open = true;
      view.items = null;
      view.cursor = null;
      known.clear();
      load(false);
    },
    render() {
      view.open = true;
      draw();
    },
  };
}

function item(m) {
  return h(
    "li",
    { class: "mention", dataset: { message: m.message_id } },
    h(
      "a",
      { href: `#/tickets/${m.ticket_id}`, class: "mention-link" },
      h("span", { class: "mention-ticket" }, `#${m.ticket_number} ${m.ticket_subject}`),
      h("span", { class: "mention-meta" }, `${m.author_name || t("Someone")} · `, h("time", { datetime: m.created_at || "" }, clock(m.created_at))),
      h("span", { class: "mention-text" }, m.text),
    ),
  );
}

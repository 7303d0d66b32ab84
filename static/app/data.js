// What the app fetches and how events and signals change the state. Views call these; the
// socket (live.js) feeds applyEvent / applySignal.

import * as api from "./api.js";
import { ApiError, query } from "./api.js";
import { clearDraft } from "./drafts.js";
import { describeChange } from "./format.js";
import { markSeen, notifyEvent, refreshTitle } from "./notify.js";
import { memberName, putTicket as storeTicket, state, update } from "./store.js";
import { toast } from "./views/toast.js";

let live = null;

export function useLive(socket) {
  live = socket;
}

export function sendSignal(frame) {
  return live ? live.send(frame) : false;
}

// ---- list rows -------------------------------------------------------------------------------

// A list row is a ticket plus who wrote in (`contact_name`) and the last public message
// (`preview`, `preview_from`). Lists bring all three; events bring the plain ticket, so what a
// row showed is kept, and events that change it (a message, a contact's new name) update it.
const ROW_EXTRAS = ["contact_name", "preview", "preview_from"];
const contactNames = new Map(); // contact id -> the name rows show

function putTicket(ticket) {
  const known = state.tickets[ticket.id];
  for (const field of ROW_EXTRAS) {
    if (ticket[field] === undefined && known && known[field] !== undefined) ticket[field] = known[field];
  }
  if (ticket.contact_name) contactNames.set(ticket.contact_id, ticket.contact_name);
  else if (ticket.contact_id && contactNames.has(ticket.contact_id)) ticket.contact_name = contactNames.get(ticket.contact_id);
  const kept = storeTicket(ticket);
  if (state.open && state.open.id === kept.id) markSeen(kept);
  return kept;
}

function rowPreview(message) {
  const ticket = state.tickets[message.ticket_id];
  if (!ticket || message.kind !== "message") return;
  let words = String(message.text || "").replace(/\s+/g, " ").trim();
  if (!words && message.attachments && message.attachments.length) {
    words = "Attachment: " + message.attachments.map((a) => a.filename).join(", ");
  }
  ticket.preview = words;
  ticket.preview_from = message.direction === "in" ? "customer" : "agent";
  if (message.direction === "in" && !ticket.contact_name && message.author && message.author.name) {
    ticket.contact_name = message.author.name;
  }
}

function renameContact(contact) {
  const name = contact.name || contact.email || contact.phone || contact.whatsapp_id;
  if (!name) return;
  contactNames.set(contact.id, name);
  for (const ticket of Object.values(state.tickets)) {
    if (ticket.contact_id === contact.id) ticket.contact_name = name;
  }
}

// ---- workspace -------------------------------------------------------------------------

export async function loadWorkspace() {
  const [members, teams, canned, presence] = await Promise.all([
    api.get("/members"),
    api.get("/teams"),
    api.get("/canned-responses").catch(() => []),
    api.get("/presence"),
  ]);
  update({ members, teams, canned, presence: presenceMap(presence) });
}

/** Canned responses change elsewhere (the #/canned view, another supervisor): fetched again
 * when a ticket opens and after every save, so the composer's `/` picker is current. */
export async function refreshCanned() {
  try {
    update({ canned: await api.get("/canned-responses") });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) console.warn(error);
  }
}

function presenceMap(list) {
  const map = {};
  for (const entry of list) map[entry.user_id] = entry.status;
  return map;
}

export const refreshPresence = debounce(async () => {
  try {
    update({ presence: presenceMap(await api.get("/presence")) });
  } catch (error) {
    reportQuietly(error);
  }
}, 300);

// ---- the ticket list and its counts ------------------------------------------------------

let listRequest = 0;
let lastListParams = null;
const PAGE = 50;

/** Fetch the list for the current filter; resolves to the seq it was read at (the live
 * socket's consistent start applies only newer events), or undefined if it was not read. */
export async function loadList() {
  const mine = ++listRequest;
  const f = state.filter;
  const params = {
    assignee: f.view === "mine" ? "me" : f.view === "unassigned" ? "unassigned" : "",
    status: f.status,
    team: f.team,
    tag: f.tag,
    channel: f.channel,
    text: f.text,
    order: f.order,
    limit: PAGE,
  };
  if (state.listIds === undefined) update({ listIds: null });
  try {
    const page = await api.get("/tickets" + query(params));
    if (mine !== listRequest) return;
    for (const ticket of page.items) putTicket(ticket);
    update({ listIds: page.items.map((t) => t.id), listCursor: page.next_cursor });
    lastListParams = params;
    return page.seq;
  } catch (error) {
    if (mine === listRequest) reportQuietly(error);
  }
}

/** The next page of the same list; what events brought meanwhile is in the list already. */
export async function loadMore() {
  const cursor = state.listCursor;
  if (!cursor || !lastListParams) return;
  const mine = listRequest;
  try {
    const page = await api.get("/tickets" + query({ ...lastListParams, cursor }));
    if (mine !== listRequest) return; // the filter changed meanwhile
    for (const ticket of page.items) putTicket(ticket);
    update({ listIds: [...(state.listIds || []), ...page.items.map((t) => t.id)], listCursor: page.next_cursor });
  } catch (error) {
    reportQuietly(error);
  }
}

export const refreshCounts = debounce(async () => {
  try {
    update({ counts: await api.get("/tickets/counts") });
  } catch (error) {
    reportQuietly(error);
  }
}, 300);

// ---- one ticket ------------------------------------------------------------------------------

export async function openTicket(id) {
  const previous = state.open && state.open.id;
  if (previous && previous !== id) sendSignal({ type: "viewing", ticket: previous, on: false });
  if (!state.open || state.open.id !== id) {
    update({ open: { id, messages: null, contact: null, contactTickets: [] }, conflict: null });
  }
  sendSignal({ type: "viewing", ticket: id, on: true });
  markSeen(state.tickets[id]);
  refreshTitle();
  refreshCanned();
  await reloadTicket(id);
}

// The customer's latest message each ticket was reported seen up to, from this tab.
const toldSeen = {};

/** The open ticket's customer sees "Seen" on their messages up to the latest one in front of
 * this agent (while the tab is visible). */
export function tellSeen() {
  const open = state.open;
  if (!open || !open.messages || document.visibilityState === "hidden") return;
  const inbound = open.messages.filter((m) => m.direction === "in" && m.kind === "message" && m.id);
  const last = inbound[inbound.length - 1];
  if (!last || toldSeen[open.id] === last.id) return;
  toldSeen[open.id] = last.id;
  api.post(`/tickets/${encodeURIComponent(open.id)}/seen`, { up_to: last.id }).catch((error) => {
    delete toldSeen[open.id];
    reportQuietly(error);
  });
}

export function closeTicket() {
  if (state.open) sendSignal({ type: "viewing", ticket: state.open.id, on: false });
  update({ open: null, conflict: null });
}

/** Fetch the ticket and its thread; resolves to the seq they were read at, as loadList. */
export async function reloadTicket(id) {
  try {
    const detail = await api.get(`/tickets/${encodeURIComponent(id)}`);
    if (!state.open || state.open.id !== id) return;
    const ticket = putTicket(detail.ticket);
    state.open.messages = mergeMessages(state.open.messages || [], detail.messages);
    update();
    tellSeen();
    await loadContact(ticket);
    return detail.seq;
  } catch (error) {
    if (state.open && state.open.id === id) {
      state.open.loadError = error.message;
      update();
    }
    reportQuietly(error);
  }
}

async function loadContact(ticket) {
  if (!ticket.contact_id) return;
  try {
    const [contact, others] = await Promise.all([
      api.get(`/contacts/${encodeURIComponent(ticket.contact_id)}`),
      api.get(`/tickets${query({ contact: ticket.contact_id, limit: 20 })}`),
    ]);
    if (!state.open || state.open.id !== ticket.id) return;
    for (const other of others.items) putTicket(other);
    state.open.contact = contact;
    state.open.contactTickets = others.items.map((t) => t.id);
    update();
  } catch (error) {
    reportQuietly(error);
  }
}

function mergeMessages(known, incoming) {
  const byId = new Map(known.map((m) => [m.id, m]));
  for (const message of incoming) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => (a.created_at || "").localeCompare(b.created_at || "") || a.id.localeCompare(b.id));
}

/**
 * Change fields of a ticket, naming the version this tab saw. A 409 (someone changed it
 * first) shows the fresh state and what changed instead of overwriting it.
 */
export async function changeTicket(id, changes) {
  const seen = state.tickets[id];
  if (!seen) return;
  try {
    const ticket = await api.patch(`/tickets/${encodeURIComponent(id)}`, {
      ...changes,
      version: seen.version,
    });
    putTicket(ticket);
    update({ conflict: state.conflict && state.conflict.ticketId === id ? null : state.conflict });
    return ticket;
  } catch (error) {
    if (error instanceof ApiError && error.code === "stale_version") {
      const current = error.details && error.details.current;
      if (current) putTicket(current);
      update({ conflict: { ticketId: id, mine: changes, seen, current: current || state.tickets[id] } });
      return null;
    }
    if (error.status !== 401) toast(`Could not change the ticket: ${error.message}`, "error");
    state.controlsEpoch = (state.controlsEpoch || 0) + 1; // put the controls back
    update();
    return null;
  }
}

/**
 * Change several tickets at once (the list's bulk actions), each through its own PATCH with
 * the version this tab saw: a ticket someone changed meanwhile is not overwritten but reported
 * as a conflict. `changesFor(ticket)` gives one ticket's changes (adding a tag needs its own
 * tags), or null to leave it as it is. Resolves to {changed, conflicts, failed, unchanged}:
 * lists of tickets (failed: [{ticket, message}]).
 */
export async function bulkChange(ids, changesFor) {
  const outcome = { changed: [], conflicts: [], failed: [], unchanged: [] };
  const one = async (id) => {
    const seen = state.tickets[id];
    if (!seen) return;
    const changes = changesFor(seen);
    if (!changes) {
      outcome.unchanged.push(seen);
      return;
    }
    try {
      putTicket(await api.patch(`/tickets/${encodeURIComponent(id)}`, { ...changes, version: seen.version }));
      outcome.changed.push(state.tickets[id]);
    } catch (error) {
      if (error instanceof ApiError && error.code === "stale_version") {
        const current = error.details && error.details.current;
        if (current) putTicket(current);
        outcome.conflicts.push(state.tickets[id]);
      } else {
        outcome.failed.push({ ticket: seen, message: error.message });
      }
    }
  };
  // A few at a time: a hundred tickets do not become a hundred requests at once.
  const queue = [...ids];
  const workers = Array.from({ length: Math.min(4, queue.length) }, async () => {
    while (queue.length) await one(queue.shift());
  });
  await Promise.all(workers);
  refreshCounts();
  update();
  return outcome;
}

/**
 * Send a reply or a note. `template` ({name, language, params}): a WhatsApp approved template
 * instead of text, for when the 24-hour window is closed; the draft is kept then, since the
 * text box was not what went out.
 */
export async function sendMessage(id, text, kind, template = null, attachments = []) {
  const clientId = `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const body = template ? { template, client_id: clientId } : { text, kind, client_id: clientId };
  if (!template && attachments.length) {
    body.attachments = attachments;
    if (!text) delete body.text; // files alone: no text at all
  }
  const created = await api.post(`/tickets/${encodeURIComponent(id)}/messages`, body);
  if (!template) clearDraft(id);
  putTicket(created.ticket);
  if (state.open && state.open.id === id) {
    state.open.messages = mergeMessages(state.open.messages || [], [created.message]);
  }
  update();
  return created;
}

// ---- files -----------------------------------------------------------------------------------

export const MAX_FILE_BYTES = 25 * 1024 * 1024;
export const MAX_FILES = 10; // a message

/** "120 KB", "3.4 MB", "812 bytes": a file's size for people (MB as the server words its limit). */
export function fileSize(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} ${n === 1 ? "byte" : "bytes"}`;
  if (n < 1024 * 1024) return `${Math.max(1, Math.round(n / 1024))} KB`;
  return megabytes(n);
}

function megabytes(bytes, up = false) {
  const tenths = (bytes / (1024 * 1024)) * 10;
  const rounded = (up ? Math.ceil(tenths) : Math.round(tenths)) / 10;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : rounded.toFixed(1)} MB`;
}

/**
 * Upload one file to attach to the next reply or note; resolves to {id, filename,
 * content_type, size, inline}. A file over the limit is refused before any byte goes out;
 * the server's refusals (413, 415 `unsupported_type`) reject with its reason as the message.
 * `options`: {onProgress(fraction), signal}.
 */
export async function uploadAttachment(file, options = {}) {
  const name = file.name || "attachment";
  if (file.size > MAX_FILE_BYTES) {
    throw new ApiError(413, "too_large", `too large: ${megabytes(file.size, true)}, the limit is ${megabytes(MAX_FILE_BYTES)}`);
  }
  try {
    return await api.upload(`/attachments${query({ filename: name })}`, file, options);
  } catch (error) {
    const limit = error instanceof ApiError && error.status === 413 && /over the (\d+)-byte limit/.exec(error.message);
    if (limit) error.message = `too large: ${megabytes(file.size, true)}, the limit is ${megabytes(Number(limit[1]))}`;
    throw error;
  }
}

/** What a reply on the ticket may be now: {channel, free_text, window_closes_at, templates,
 * why}. WhatsApp allows free text only within 24 hours of the customer's last message. */
export function loadReplyOptions(id) {
  return api.get(`/tickets/${encodeURIComponent(id)}/reply-options`);
}

// ---- the dashboard ---------------------------------------------------------------------------

let dashboardWanted = false;

export function watchDashboard(on) {
  dashboardWanted = on;
  if (on) refreshDashboard();
}

let deflectionAt = 0;
const DEFLECTION_EVERY = 60_000; // help-article reads come with no event: a minute is fresh enough

export const refreshDashboard = debounce(async () => {
  if (!dashboardWanted) return;
  try {
    update({ dashboard: await api.get("/dashboard"), dashboardError: null });
  } catch (error) {
    update({ dashboardError: error.message });
  }
  if (Date.now() - deflectionAt > DEFLECTION_EVERY) {
    deflectionAt = Date.now();
    try {
      update({ deflection: await api.get("/kb/deflection?days=30") });
    } catch {
      update({ deflection: null }); // the card says it could not be loaded
    }
  }
}, 300);

// ---- events and signals ------------------------------------------------------------------------

export function applyEvent(event) {
  const data = event.data || {};
  if (event.type === "ticket.created" || event.type === "ticket.updated") {
    const ticket = data.ticket;
    if (ticket) {
      putTicket(ticket);
      if (event.type === "ticket.updated") {
        state.lastChange[ticket.id] = {
          version: ticket.version,
          actor: event.actor,
          changed: data.changed || [],
        };
        // The change's timeline lines ("Ana set the status to pending") come in its event.
        if (data.lines && data.lines.length && state.open && state.open.id === ticket.id) {
          state.open.messages = mergeMessages(state.open.messages || [], data.lines);
        }
      }
    }
    refreshCounts();
    refreshDashboard();
  } else if (event.type === "message.created") {
    const message = data.message;
    if (message && state.open && state.open.id === message.ticket_id) {
      state.open.messages = mergeMessages(state.open.messages || [], [message]);
      if (message.direction === "in") tellSeen();
    }
    if (message) notifyMention(message, event);
    if (data.ticket) putTicket(data.ticket);
    if (message) rowPreview(message);
    refreshDashboard();
  } else if (event.type === "message.read") {
    // The customer read the replies up to `up_to`: those sent (or delivered) show "read".
    if (state.open && state.open.id === event.ticket && data.up_to) {
      state.open.messages = readUpTo(state.open.messages || [], data.up_to);
    }
  } else if (event.type === "ai.suggestions") {
    // Answers for the customer's latest message, offered in the composer of that ticket.
    if (state.open && state.open.id === event.ticket) state.open.suggestions = data;
  } else if (event.type === "message.updated") {
    // A delivery report: sent, delivered, read, or failed with the provider's reason.
    const message = data.message;
    if (message && state.open && state.open.id === message.ticket_id) {
      state.open.messages = mergeMessages(state.open.messages || [], [message]);
      if (message.direction === "in") tellSeen();
    }
  }
  if ((event.type === "contact.created" || event.type === "contact.updated") && data.contact) {
    renameContact(data.contact);
    if (state.open && state.open.contact && data.contact.id === state.open.contact.id) state.open.contact = data.contact;
  }
  notifyEvent(event);
  refreshTitle();
  update();
}

/** The thread after the customer read up to message `upTo` (ids grow with time). */
export function readUpTo(messages, upTo) {
  return messages.map((m) =>
    m.direction === "out" && m.kind === "message" && m.id <= upTo && (m.delivery_status === "sent" || m.delivery_status === "delivered")
      ? { ...m, delivery_status: "read" }
      : m,
  );
}

let mentionCount = 0;

function notifyMention(message, event) {
  const me = state.me && state.me.user_id;
  if (!me || message.kind !== "note" || !(message.mentions || []).includes(me)) return;
  if (message.author && message.author.id === me) return;
  const ticket = state.tickets[message.ticket_id];
  const where = ticket ? `#${ticket.number} ${ticket.subject}` : "a ticket";
  const who = (message.author && message.author.name) || (event.actor && event.actor.name) || "Someone";
  // The mentions page (views/mentions.js) puts it at the top while it is shown.
  mentionCount += 1;
  state.lastMention = {
    n: mentionCount,
    message_id: message.id,
    ticket_id: message.ticket_id,
    ticket_number: ticket ? ticket.number : "",
    ticket_subject: ticket ? ticket.subject : "",
    author_name: who,
    text: message.text.replace(/\s+/g, " ").trim().slice(0, 280),
    created_at: message.created_at,
  };
  toast(`${who} mentioned you on ${where}: ${message.text.slice(0, 140)}`, "mention", () => {
    location.hash = `#/tickets/${message.ticket_id}`;
  });
}

export function applySignal(signal) {
  const data = signal.data || {};
  if (signal.type === "presence") {
    if (data.state === "online" || data.state === "away") {
      state.presence[data.user] = data.state;
    }
    refreshPresence(); // the server knows about the user's other tabs
    refreshDashboard();
  } else if ((signal.type === "viewing" || signal.type === "typing") && signal.ticket) {
    const table = state[signal.type];
    const entries = (table[signal.ticket] = table[signal.ticket] || {});
    if (data.on) {
      entries[data.user] = {
        name: data.name || memberName(data.user),
        until: Date.now() + (data.expires_in || 10) * 1000,
      };
    } else {
      delete entries[data.user];
    }
  }
  update();
}

/** Who made the change that produced `ticket`'s current version, when an event told us. */
export function changeAuthor(ticket) {
  if (ticket.changed_by) return ticket.changed_by.name || memberName(ticket.changed_by.id);
  const last = state.lastChange[ticket.id];
  if (last && last.version === ticket.version && last.actor) {
    return last.actor.name || memberName(last.actor.id);
  }
  return null;
}

export function conflictSummary(conflict) {
  const current = state.tickets[conflict.ticketId] || conflict.current;
  const changed = [];
  for (const field of ["status", "priority", "assignee_id", "team_id", "tags"]) {
    if (JSON.stringify(conflict.seen[field]) !== JSON.stringify(current[field])) {
      changed.push(describeChange(field, current[field]));
    }
  }
  return { current, changed };
}

// ---- helpers ---------------------------------------------------------------------------------

export function debounce(fn, wait) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
}

function reportQuietly(error) {
  if (error instanceof ApiError && error.status === 401) return; // login takes over
  console.warn(error);
  if (error instanceof ApiError && error.status === 0) return; // the banner says it
  toast(error.message, "error");
}

/** Reassign from the dashboard, with the version the dashboard showed. */
export async function reassign(ticketId, version, assigneeId) {
  try {
    const ticket = await api.patch(`/tickets/${encodeURIComponent(ticketId)}`, {
      assignee_id: assigneeId || null,
      version,
    });
    putTicket(ticket);
    toast(`#${ticket.number} assigned to ${assigneeId ? memberName(assigneeId) : "nobody"}`, "info");
  } catch (error) {
    if (error instanceof ApiError && error.code === "stale_version") {
      toast("That ticket changed meanwhile; the dashboard shows its current state now.", "error");
    } else {
      toast(`Could not reassign: ${error.message}`, "error");
    }
  }
  refreshDashboard();
}

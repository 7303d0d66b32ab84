// The app's state in one object, and the subscribers that redraw when it changes.
// Changes are batched: many events in one tick cause one redraw.

export const state = {
  me: null, // GET /me: user_id, name, role, permissions, workspace, csrf_token
  members: [], // GET /members
  teams: [],
  canned: [],
  presence: {}, // user id -> online | away | offline
  connection: "offline", // connecting | live | reconnecting | offline
  route: { name: "login" }, // login | inbox | ticket | dashboard | canned
  // order: newest | updated (recently active first) | waiting (longest waiting first);
  // text: the search box (a word of the subject, or #number)
  filter: { view: "all", status: "active", team: "", tag: "", channel: "", text: "", order: "newest" },
  tickets: {}, // id -> ticket, every ticket this tab knows of
  listIds: null, // ids the list fetches returned for the current filter (null: loading)
  listCursor: null, // where the next page of the list starts (null: no more)
  counts: null, // GET /tickets/counts
  open: null, // {id, messages: [], contact, contactTickets, loadError}
  lastChange: {}, // ticket id -> {version, actor, changed, previous}
  viewing: {}, // ticket id -> {user id -> {name, until}}
  typing: {}, // ticket id -> {user id -> {name, until}}
  conflict: null, // {ticketId, mine: {field: value}, seen: ticket, current: ticket}
  notice: null, // {kind, text}: a one-line message under the header
  dashboard: null,
  dashboardError: null,
  deflection: null, // GET /kb/deflection: help articles read in the widget, 30 days
  controlsEpoch: 0, // bumped when a change fails, so the controls show the real state again
  loginMessage: "",
  authOptions: null, // GET /auth/options: whether sign-up is offered
};

const subscribers = new Set();
let scheduled = false;

export function subscribe(fn) {
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

/** Merge `patch` into the state (or just mark it changed) and redraw once this tick. */
export function update(patch) {
  if (patch) Object.assign(state, patch);
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const fn of subscribers) {
      try {
        fn(state);
      } catch (error) {
        console.error("redraw failed", error);
      }
    }
  });
}

export function memberName(userId) {
  if (!userId) return "";
  const member = state.members.find((m) => m.user_id === userId);
  if (member) return member.name;
  return state.me && state.me.user_id === userId ? state.me.name : "someone";
}

export function can(action) {
  return Boolean(state.me && state.me.permissions.includes(action));
}

/** Store a ticket unless what we hold is newer (events and fetches may cross): `rev` grows
 * with every write to it, messages included; `version` only with edits. */
export function putTicket(ticket) {
  const known = state.tickets[ticket.id];
  if (known && ((known.rev || 0) > (ticket.rev || 0) || known.version > ticket.version)) return known;
  state.tickets[ticket.id] = ticket;
  return ticket;
}

const ACTIVE = new Set(["open", "pending", "snoozed"]);

export function isActive(ticket) {
  return ACTIVE.has(ticket.status);
}

/** Whether `ticket` belongs in the list the current filter describes. */
export function matchesFilter(ticket, filter = state.filter) {
  const me = state.me && state.me.user_id;
  if (filter.view === "mine" && ticket.assignee_id !== me) return false;
  if (filter.view === "unassigned" && ticket.assignee_id) return false;
  if (filter.status === "active" && !isActive(ticket)) return false;
  if (filter.status && filter.status !== "active" && ticket.status !== filter.status) return false;
  if (filter.team && ticket.team_id !== filter.team) return false;
  if (filter.tag && !ticket.tags.includes(filter.tag)) return false;
  if (filter.channel && ticket.channel !== filter.channel) return false;
  if (filter.order === "waiting" && !ticket.waiting_since) return false;
  return true;
}

const ORDERS = {
  newest: (a, b) => b.number - a.number,
  updated: (a, b) => (b.updated_at || "").localeCompare(a.updated_at || "") || b.id.localeCompare(a.id),
  waiting: (a, b) => (a.waiting_since || "").localeCompare(b.waiting_since || "") || a.id.localeCompare(b.id),
};

/** The list as shown: every ticket this tab knows that matches the filter, newest first.
 * (The fetch brings the first page; events add and move tickets live.) A search shows the
 * server's matches, best first: words can match a ticket's messages, which this tab has not
 * all seen; a match that no longer fits the other filters drops out live. */
export function visibleTickets() {
  if (state.listIds === null) return [];
  if (state.filter.text && state.filter.text.trim()) {
    return state.listIds.map((id) => state.tickets[id]).filter((t) => t && matchesFilter(t));
  }
  return Object.values(state.tickets)
    .filter((t) => matchesFilter(t))
    .sort(ORDERS[state.filter.order] || ORDERS.newest);
}

/** Live names on a ticket ("viewing" or "typing"), without me and without expired ones. */
export function whoIs(kind, ticketId) {
  const entries = (state[kind] && state[kind][ticketId]) || {};
  const now = Date.now();
  const me = state.me && state.me.user_id;
  return Object.entries(entries)
    .filter(([user, entry]) => user !== me && entry.until > now)
    .map(([, entry]) => entry.name);
}

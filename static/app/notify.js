// Telling an agent what concerns them, even with the tab in the background: the count of
// their unread conversations in the tab's title, desktop notifications (only once they turn
// them on from the sidebar) and an optional beep, for a conversation newly assigned to them,
// a note that mentions them, and a customer's reply on a ticket assigned to them.
//
// Unread: the customer wrote since this agent last opened the ticket in this browser. What
// was last seen is the ticket's own `last_customer_message_at` when it was opened (the
// server's clock, so a wrong clock here cannot hide a message), kept in localStorage.

import { memberName, state } from "./store.js";

const SEEN_KEY = "tandem.seen";
const SOUND_KEY = "tandem.sound";
const SEEN_KEPT = 2000; // tickets remembered; the oldest are forgotten first
const BASE_TITLE = document.title || "Tandem inbox";

let seen = loadSeen();

function loadSeen() {
  try {
    const saved = JSON.parse(localStorage.getItem(SEEN_KEY) || "{}");
    return saved && typeof saved === "object" ? saved : {};
  } catch {
    return {};
  }
}

function saveSeen() {
  const entries = Object.entries(seen);
  if (entries.length > SEEN_KEPT) {
    entries.sort((a, b) => (b[1] || "").localeCompare(a[1] || ""));
    seen = Object.fromEntries(entries.slice(0, SEEN_KEPT));
  }
  try {
    localStorage.setItem(SEEN_KEY, JSON.stringify(seen));
  } catch {
    // storage full or refused: unread state lasts for this page only
  }
}

// ---- unread --------------------------------------------------------------------------------

/** Whether the customer wrote on `ticket` since this agent last opened it. */
export function isUnread(ticket) {
  const last = ticket && ticket.last_customer_message_at;
  if (!last) return false;
  const at = seen[ticket.id];
  return !at || at < last;
}

/** The agent has the ticket in front of them: what the customer wrote so far is read. */
export function markSeen(ticket) {
  if (!ticket || !ticket.last_customer_message_at) return;
  if (seen[ticket.id] && seen[ticket.id] >= ticket.last_customer_message_at) return;
  seen[ticket.id] = ticket.last_customer_message_at;
  saveSeen();
}

/** My active conversations with something unread. */
export function unreadMine() {
  const me = state.me && state.me.user_id;
  if (!me) return 0;
  let n = 0;
  for (const ticket of Object.values(state.tickets)) {
    if (ticket.assignee_id === me && ["open", "pending", "snoozed"].includes(ticket.status) && isUnread(ticket)) n += 1;
  }
  return n;
}

/** "(3) Tandem inbox": the tab shows how many of my conversations wait to be read. */
export function refreshTitle() {
  const n = state.me ? unreadMine() : 0;
  const title = n ? `(${n}) ${BASE_TITLE}` : BASE_TITLE;
  if (document.title !== title) document.title = title;
}

// ---- desktop notifications and sound -------------------------------------------------------

export function notificationsSupported() {
  return typeof window.Notification === "function";
}

/** "granted", "denied", "default" (not asked yet) or "unsupported". */
export function notificationPermission() {
  return notificationsSupported() ? window.Notification.permission : "unsupported";
}

/** Ask for permission; only ever from a button the agent pressed. */
export async function askPermission() {
  if (!notificationsSupported()) return "unsupported";
  try {
    return await window.Notification.requestPermission();
  } catch {
    return window.Notification.permission;
  }
}

export function soundOn() {
  return localStorage.getItem(SOUND_KEY) === "on";
}

let audio = null;

export function setSound(on) {
  localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  if (on) beep(); // the toggle is a gesture: the browser lets the audio start now, and it is heard once
}

function beep() {
  try {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    audio = audio || new Context();
    if (audio.state === "suspended") audio.resume();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.type = "sine";
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.01);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.18);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.2);
  } catch {
    // no audio output: the notification itself still shows
  }
}

function tell(title, body, ticketId) {
  if (notificationPermission() === "granted") {
    try {
      const note = new window.Notification(title, { body, tag: `tandem-${ticketId}` });
      note.onclick = () => {
        window.focus();
        location.hash = `#/tickets/${ticketId}`;
        if (note.close) note.close();
      };
    } catch (error) {
      console.warn(error);
    }
  }
  if (soundOn()) beep();
}

function short(text, n = 140) {
  const words = String(text || "").replace(/\s+/g, " ").trim();
  return words.length > n ? `${words.slice(0, n - 1)}…` : words;
}

function label(ticket) {
  return ticket ? `#${ticket.number} ${ticket.subject}` : "a conversation";
}

/** What an event means to me, told as a notification (data.js calls this for every event,
 * after the state took it in). */
export function notifyEvent(event) {
  const me = state.me && state.me.user_id;
  const data = event.data || {};
  const actor = event.actor || {};
  if (!me) return;
  if (event.type === "ticket.created" || event.type === "ticket.updated") {
    const ticket = data.ticket;
    if (!ticket || ticket.assignee_id !== me || actor.id === me) return;
    const before = data.previous && "assignee_id" in data.previous ? data.previous.assignee_id : undefined;
    const newlyMine = event.type === "ticket.created" || ((data.changed || []).includes("assignee_id") && before !== me);
    if (!newlyMine) return;
    const by = actor.name || memberName(actor.id) || "Someone";
    tell(`${by} assigned you ${label(ticket)}`, ticket.contact_name || ticket.subject, ticket.id);
  } else if (event.type === "message.created") {
    const message = data.message;
    if (!message) return;
    const ticket = data.ticket || state.tickets[message.ticket_id];
    if (message.kind === "note") {
      if (!(message.mentions || []).includes(me) || (message.author && message.author.id === me)) return;
      const who = (message.author && message.author.name) || actor.name || "Someone";
      tell(`${who} mentioned you on ${label(ticket)}`, short(message.text), message.ticket_id);
    } else if (message.kind === "message" && message.direction === "in") {
      if (!ticket || ticket.assignee_id !== me) return;
      const known = state.tickets[message.ticket_id];
      const who = (message.author && message.author.name) || (known && known.contact_name) || "The customer";
      tell(`${who} replied on ${label(ticket)}`, short(message.text) || "Sent a file", message.ticket_id);
    }
  }
}

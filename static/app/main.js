// The inbox app: session start, the page shell, routing (#/inbox, #/tickets/<id>,
// #/dashboard, #/canned, #/kb, #/channels), the live socket wiring, and the one-second clock for ages and expiries.

import * as api from "./api.js";
import {
  applyEvent,
  applySignal,
  changeTicket,
  closeTicket,
  loadList,
  loadMore,
  loadWorkspace,
  openTicket,
  refreshCanned,
  refreshCounts,
  refreshDashboard,
  refreshPresence,
  reloadTicket,
  sendSignal,
  tellSeen,
  useLive,
  watchDashboard,
} from "./data.js";
import { h, mount } from "./dom.js";
import { Live } from "./live.js";
import { oldestSeq } from "./seqrules.js";
import { installShortcuts } from "./shortcuts.js";
import { can, state, subscribe, update, visibleTickets } from "./store.js";
import { renderDashboard, tickAges } from "./views/dashboard.js";
import { renderList } from "./views/list.js";
import { renderAccept } from "./views/accept.js";
import { createCannedView } from "./views/canned.js";
import { createChannelsView } from "./views/channels.js";
import { createKbView } from "./views/kb.js";
import { createMentionsView } from "./views/mentions.js";
import { createProfileView } from "./views/profile.js";
import { createSettingsView } from "./views/settings.js";
import { renderTopbar } from "./views/topbar.js";
import { renderLogin } from "./views/login.js";
import { confirmAddress, renderFindWorkspace, renderResetConfirm, renderResetRequest } from "./views/recover.js";
import { renderSignup } from "./views/signup.js";
import { browserLanguage, setLanguage, t } from "./i18n.js";
import { toast } from "./views/toast.js";
import { renderSidebar } from "./views/sidebar.js";
import { createTicketView } from "./views/ticket.js";
import { since } from "./format.js";

const root = document.getElementById("app");
const VIEWING_REFRESH = 20_000;
let live = null;
let shell = null;
let viewingTimer = null;

// ---- session ---------------------------------------------------------------------------------

const ENDED = "Your session has ended. Log in again — your drafts are kept.";
// Set while this tab has a session, so a first visit is not told a session ended.
const SESSION_FLAG = "tandem.session";

async function boot() {
  api.onUnauthorized(() => toLogin(sessionStorage.getItem(SESSION_FLAG) ? t(ENDED) : ""));
  update({ authOptions: await api.get("/auth/options").catch(() => null) });
  const verify = /^#\/verify\/([A-Za-z0-9_-]+)$/.exec(location.hash);
  let notice = "";
  let failed = "";
  if (verify) {
    await confirmAddress(root, verify[1], (said, error) => {
      notice = said;
      failed = error || "";
    });
    location.hash = "#/inbox";
  }
  if (publicOnly()) return showPublic();
  try {
    const me = await api.get("/me");
    await startSession(me);
    if (notice) toast(notice);
  } catch (error) {
    if (error.status === 401) {
      update({ loginMessage: failed });
      showPublic({ notice: notice ? `${notice} Log in to go on.` : "" });
    } else toLogin(error.message);
  }
}

/** Routes that are for someone without a session even when a session exists (an invitation,
 * a reset link). */
function publicOnly() {
  return /^#\/(accept|reset)\/[A-Za-z0-9_-]+$/.test(location.hash);
}

/** The forms before the app: log in (default), sign up, reset, find a workspace, join. */
function showPublic({ notice = "" } = {}) {
  const hash = location.hash;
  const enter = async () => startSession(await api.get("/me"));
  let m;
  if ((m = /^#\/accept\/([A-Za-z0-9_-]+)$/.exec(hash))) return renderAccept(root, m[1], enter);
  if ((m = /^#\/reset\/([A-Za-z0-9_-]+)$/.exec(hash))) return renderResetConfirm(root, m[1], enter);
  if (hash === "#/reset") return renderResetRequest(root);
  if (hash === "#/find-workspace") return renderFindWorkspace(root);
  if (hash === "#/signup" && state.authOptions?.signup_enabled) return renderSignup(root, enter);
  const given = (m = /^#\/login\?workspace=([a-z0-9-]+)$/.exec(hash)) ? m[1] : "";
  renderLogin(root, enter, { workspace: given, notice });
}

async function startSession(me) {
  api.setCsrf(me.csrf_token || api.csrfFromCookie());
  sessionStorage.setItem(SESSION_FLAG, "1");
  setLanguage(me.language || "en");
  if (!/^#\/(inbox|tickets|dashboard|canned|kb|channels|settings|profile|mentions)/.test(location.hash)) location.hash = "#/inbox";
  update({ me, loginMessage: "", tickets: {}, listIds: null, counts: null, open: null, dashboard: null, conflict: null });
  buildShell();
  await loadWorkspace().catch((error) => console.warn(error));
  if (can("manage_workspace")) {
    api.get("/channels/email").then((email) => update({ emailConnected: email.connected }), () => {});
  }
  live = new Live({
    onEvent: applyEvent,
    onSignal: applySignal,
    onResync: () => {
      refreshCounts();
      refreshPresence();
      refreshDashboard();
      return fetchState();
    },
    onState: (connection) => update({ connection }),
    onReady: (first) => {
      state.presence[state.me.user_id] = live.presenceState; // our own signal is not echoed
      // Subscribed before fetching: events after the fetched state's seq are not missed.
      let fetched;
      if (first) {
        fetched = fetchState();
        refreshCounts();
      } else {
        refreshCounts();
        refreshPresence();
        // Presence and "viewing" are not replayed: say again where this tab is.
        api.get("/me").catch(() => {});
      }
      if (state.open) sendSignal({ type: "viewing", ticket: state.open.id, on: true });
      refreshDashboard();
      return fetched;
    },
    onStuck: () => api.get("/me").catch(() => {}), // a 401 here brings the login form
    onDenied: () => toLogin(t(ENDED)),
  });
  useLive(live);
  live.start();
  clearInterval(viewingTimer);
  viewingTimer = setInterval(() => {
    if (state.open) sendSignal({ type: "viewing", ticket: state.open.id, on: true });
  }, VIEWING_REFRESH);
  route();
}

/** The state events apply to, read over HTTP: the list and the open ticket (read again on the
 * first hello even if the route read it already, since that may have been before the socket
 * was subscribed). A promise of the seq to apply events after. */
function fetchState() {
  const reads = [loadList()];
  if (state.open) reads.push(reloadTicket(state.open.id));
  return Promise.all(reads).then(oldestSeq);
}

function toLogin(message) {
  if (!state.me && document.getElementById("login-password")) {
    if (message) document.getElementById("login-error").textContent = message;
    return; // already there (several requests may fail with 401 at once)
  }
  if (live) {
    live.stop();
    live = null;
    useLive(null);
  }
  clearInterval(viewingTimer);
  shell = null;
  update({ me: null, connection: "offline", loginMessage: message, open: null, conflict: null });
  renderLogin(root, async () => startSession(await api.get("/me")));
}

async function logout() {
  sessionStorage.removeItem(SESSION_FLAG); // requests still in flight may now answer 401
  setLanguage(browserLanguage());
  await api.post("/auth/logout").catch(() => {});
  api.setCsrf(null);
  location.hash = "#/login";
  toLogin("");
}

// ---- shell -----------------------------------------------------------------------------------

function buildShell() {
  const nav = h("nav", { class: "main-nav", "aria-label": t("Main") });
  const banner = h("div", { class: "banner", id: "connection-banner", role: "status", "aria-live": "polite" });
  const sidebar = h("nav", { class: "sidebar", id: "sidebar", "aria-label": t("Views and filters") });
  const team = h("section", { class: "team-presence", "aria-label": t("Team") });
  const list = h("section", { class: "list-pane", id: "list-pane", "aria-label": t("Tickets") });
  const ticket = h("div", { class: "ticket-host", id: "ticket-host" });
  const dashboard = h("main", { class: "dashboard", id: "dashboard", hidden: true });
  const canned = h("main", { class: "canned-page", id: "canned", hidden: true, "aria-label": t("Canned responses") });
  const channels = h("main", { class: "channels-page", id: "channels", hidden: true, "aria-label": t("Channels") });
  const kb = h("main", { class: "kb-page", id: "kb", hidden: true, "aria-label": t("Knowledge base") });
  const me = h("div", { class: "me" });
  // Pages beside the inbox, each a view with open(arg) and render().
  const pages = {};
  for (const [name, label, create] of [
    ["settings", "Settings", createSettingsView],
    ["profile", "Profile", createProfileView],
    ["mentions", "Mentions", createMentionsView],
  ]) {
    const host = h("main", { class: `${name}-page`, id: name, hidden: true, "aria-label": t(label) });
    pages[name] = { root: host, view: create(host) };
  }
  const header = renderTopbar({ nav, banner, me, list, onLogout: logout });
  const inbox = h("main", { class: "inbox", id: "inbox" }, h("div", { class: "left" }, sidebar, team), list, ticket);
  mount(root, header, inbox, dashboard, canned, kb, channels, Object.values(pages).map((p) => p.root));
  shell = { nav, banner, sidebar, team, list, ticket: createTicketView(ticket), dashboard, canned: createCannedView(canned), cannedRoot: canned, kb: createKbView(kb), kbRoot: kb, channels: createChannelsView(channels), channelsRoot: channels, inbox, me, pages };
}

function draw() {
  if (!shell || !state.me) return;
  const r = state.route;
  const page = ["dashboard", "canned", "kb", "channels", ...Object.keys(shell.pages)].includes(r.name) ? r.name : "inbox";
  mount(
    shell.nav,
    h("a", { href: "#/inbox", "aria-current": page === "inbox" ? "page" : null }, t("Inbox")),
    can("view_dashboard") ? h("a", { href: "#/dashboard", "aria-current": page === "dashboard" ? "page" : null }, t("Dashboard")) : null,
    can("manage_canned") ? h("a", { href: "#/canned", "aria-current": page === "canned" ? "page" : null }, t("Canned responses")) : null,
    can("manage_kb") ? h("a", { href: "#/kb", "aria-current": page === "kb" ? "page" : null }, t("Knowledge base")) : null,
    can("manage_workspace") ? h("a", { href: "#/channels", "aria-current": page === "channels" ? "page" : null }, t("Channels")) : null,
    h("a", { href: "#/mentions", "aria-current": page === "mentions" ? "page" : null }, t("Mentions")),
    can("invite_members") ? h("a", { href: "#/settings", "aria-current": page === "settings" ? "page" : null }, t("Settings")) : null,
    h("a", { href: "#/profile", "aria-current": page === "profile" ? "page" : null }, t("Profile")),
  );
  drawBanner();
  mount(
    shell.me,
    h("span", { class: `dot dot-${state.presence[state.me.user_id] || "online"}`, "aria-hidden": "true" }),
    state.me.avatar_url ? h("img", { class: "avatar", src: state.me.avatar_url, alt: "" }) : null,
    h("span", {}, state.me.name),
    h("span", { class: "muted" }, ` · ${state.me.role}`),
  );
  shell.inbox.hidden = page !== "inbox";
  shell.dashboard.hidden = page !== "dashboard";
  shell.cannedRoot.hidden = page !== "canned";
  shell.kbRoot.hidden = page !== "kb";
  shell.channelsRoot.hidden = page !== "channels";
  for (const [name, p] of Object.entries(shell.pages)) p.root.hidden = page !== name;
  if (shell.pages[page]) {
    shell.pages[page].view.render();
    return;
  }
  if (page === "dashboard") {
    renderDashboard(shell.dashboard);
    return;
  }
  if (page === "canned") {
    shell.canned.render();
    return;
  }
  if (page === "kb") {
    shell.kb.render();
    return;
  }
  if (page === "channels") {
    shell.channels.render();
    return;
  }
  renderSidebar(shell.sidebar, setFilter);
  drawTeam();
  renderList(shell.list, listTitle(), { filter: setFilter, more: loadMore });
  shell.ticket.render();
}

function drawBanner() {
  const c = state.connection;
  const text = c === "reconnecting" ? t("Reconnecting… your drafts are safe.") : c === "connecting" ? t("Connecting…") : "";
  if (shell.banner.textContent !== text) shell.banner.textContent = text;
  shell.banner.className = `banner${text ? " visible" : ""}${c === "reconnecting" ? " warn" : ""}`;
  document.body.classList.toggle("is-reconnecting", c === "reconnecting");
}

function drawTeam() {
  const members = state.members.filter((m) => m.active);
  mount(
    shell.team,
    h("h3", {}, t("Team")),
    h(
      "ul",
      { class: "presence-list" },
      members.map((m) => {
        const status = state.presence[m.user_id] || "offline";
        return h("li", { dataset: { user: m.user_id } }, h("span", { class: `dot dot-${status}`, "aria-hidden": "true" }), h("span", {}, m.name), h("span", { class: "sr-only" }, ` (${status})`));
      }),
    ),
  );
}

function listTitle() {
  const f = state.filter;
  const view = t({ mine: "Mine", unassigned: "Unassigned", all: "All" }[f.view]);
  const extra = [f.status !== "active" ? t(f.status) : "", f.tag && `#${f.tag}`, f.channel, f.text && `“${f.text}”`].filter(Boolean);
  return extra.length ? `${view} · ${extra.join(" · ")}` : view;
}

function setFilter(patch) {
  const filter = { ...state.filter, ...patch };
  localStorage.setItem("tandem.filter", JSON.stringify(filter));
  update({ filter, listIds: null, listCursor: null });
  loadList();
}

// ---- routing ---------------------------------------------------------------------------------

function route() {
  if (!state.me) return showPublic();
  const verify = /^#\/verify\/([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (verify) {
    go("#/profile");
    api.post("/auth/verify-email", { token: verify[1] }).then(
      (profile) => {
        toast(`${profile.email} is confirmed. Thank you.`);
        shell?.pages.profile.view.open();
      },
      (failure) => toast(failure.code === "link_invalid" ? "This confirmation link is unknown, used or expired." : failure.message, "error"),
    );
    return;
  }
  if (publicOnly()) {
    // An invitation or reset link opened while logged in: it is for someone without a session.
    if (live) live.stop();
    live = null;
    useLive(null);
    shell = null;
    update({ me: null });
    return showPublic();
  }
  const hash = location.hash || "#/inbox";
  const ticketMatch = /^#\/tickets\/([A-Za-z0-9]+)$/.exec(hash);
  if (hash === "#/dashboard" && can("view_dashboard")) {
    update({ route: { name: "dashboard" } });
    watchDashboard(true);
    return;
  }
  watchDashboard(false);
  if (hash === "#/canned") {
    update({ route: { name: "canned" } });
    if (can("manage_canned")) refreshCanned();
    return;
  }
  if (hash === "#/kb") {
    update({ route: { name: "kb" } });
    if (shell) shell.kb.open();
    return;
  }
  if (hash === "#/channels") {
    update({ route: { name: "channels" } });
    if (shell) shell.channels.load();
    return;
  }
  const pageMatch = /^#\/(settings|profile|mentions)(?:\/([a-z-]+))?$/.exec(hash);
  if (pageMatch) {
    update({ route: { name: pageMatch[1], arg: pageMatch[2] || "" } });
    if (shell) shell.pages[pageMatch[1]].view.open(pageMatch[2] || "");
    return;
  }
  if (ticketMatch) {
    update({ route: { name: "ticket", id: ticketMatch[1] } });
    if (!state.open || state.open.id !== ticketMatch[1]) openTicket(ticketMatch[1]);
  } else {
    update({ route: { name: "inbox" } });
    if (state.open) closeTicket();
  }
}

function go(hash) {
  if (location.hash !== hash) location.hash = hash;
}

// ---- clock -------------------------------------------------------------------------------------

function tick() {
  if (!shell) return;
  const now = Date.now();
  let expired = false;
  for (const kind of ["viewing", "typing"]) {
    for (const entries of Object.values(state[kind])) {
      for (const [user, entry] of Object.entries(entries)) {
        if (entry.until <= now) {
          delete entries[user];
          expired = true;
        }
      }
    }
  }
  if (expired) update();
  tickAges(shell.dashboard);
  for (const node of shell.list.querySelectorAll("[data-since]")) {
    if (node.dataset.since) node.textContent = since(node.dataset.since);
  }
}

// ---- start -------------------------------------------------------------------------------------

try {
  const saved = JSON.parse(localStorage.getItem("tandem.filter") || "null");
  if (saved && saved.view) state.filter = { ...state.filter, ...saved };
} catch {
  // a broken saved filter: keep the default
}

subscribe(draw);
window.addEventListener("hashchange", route);
document.addEventListener("visibilitychange", () => {
  if (live) live.setPresence(document.visibilityState === "hidden" ? "away" : "online");
  if (document.visibilityState === "visible") tellSeen();
});
setInterval(tick, 1000);
installShortcuts({
  enabled: () => Boolean(shell && state.me),
  go,
  move(step) {
    const tickets = visibleTickets();
    if (!tickets.length) return;
    const index = state.open ? tickets.findIndex((t) => t.id === state.open.id) : -1;
    const next = tickets[Math.min(tickets.length - 1, Math.max(0, index + step))];
    if (index === -1 && step < 0) return go(`#/tickets/${tickets[0].id}`);
    go(`#/tickets/${next.id}`);
    setTimeout(() => document.getElementById(`row-${next.id}`)?.scrollIntoView({ block: "nearest" }), 50);
  },
  compose(kind) {
    if (state.open) shell.ticket.focusComposer(kind);
  },
  resolve() {
    const ticket = state.open && state.tickets[state.open.id];
    if (ticket && ticket.status !== "resolved" && ticket.status !== "closed") changeTicket(ticket.id, { status: "resolved" });
  },
});
boot();

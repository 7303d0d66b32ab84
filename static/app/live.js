// The live socket, following the protocol's client rules (README "Real time"): the order of
// events (hello {since}, each event once in seq order, gap → resume, resync → refetch, the
// consistent start) is seqrules.js; here are the socket around it, jittered reconnect, a ping
// every 25 s, and offline/online window events that close and reopen the socket (Chromium keeps
// sockets open while the network is emulated offline, and a laptop waking up may hold a dead
// one).

import { createSequencer } from "./seqrules.js";

const PING_EVERY = 25_000;
const PRESENCE_EVERY = 30_000; // the server forgets a tab's presence after 60 s

export class Live {
  /**
   * handlers: onEvent(event), onSignal(signal), onResync() (refetch: a promise of the seq the
   * state was read at), onState("connecting" | "live" | "reconnecting"), onReady(isFirst) (on
   * the first, fetch state: a promise of its seq; events wait for it), onDenied() (the session
   * is gone)
   */
  constructor(handlers, topics = ["inbox", "presence"]) {
    this.handlers = handlers;
    this.topics = topics;
    this.rules = createSequencer({
      apply: (event) => this.handlers.onEvent(event),
      send: (frame) => this.send(frame),
      refetch: () => this.handlers.onResync(),
    });
    this.socket = null;
    this.attempt = 0;
    this.timers = [];
    this.reconnectTimer = null;
    this.stopped = true;
    this.connectedOnce = false;
    this.presenceState = document.visibilityState === "hidden" ? "away" : "online";
    this.onOffline = () => this.drop("the browser went offline");
    this.onOnline = () => {
      if (!this.stopped) this.reconnectNow();
    };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener("offline", this.onOffline);
    window.addEventListener("online", this.onOnline);
    this.open();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("offline", this.onOffline);
    window.removeEventListener("online", this.onOnline);
    this.clearTimers();
    clearTimeout(this.reconnectTimer);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.close(1000, "logged out");
    }
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN && this.ready) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  setPresence(presence) {
    this.presenceState = presence;
    this.send({ type: "presence", state: presence });
  }

  open() {
    if (this.stopped) return;
    if (navigator.onLine === false) {
      this.handlers.onState("reconnecting");
      return; // the `online` event reopens
    }
    this.ready = false;
    this.handlers.onState(this.connectedOnce ? "reconnecting" : "connecting");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/live`);
    this.socket = socket;
    socket.onopen = () => {
      if (socket !== this.socket) return;
      socket.send(JSON.stringify(this.rules.hello({ topics: this.topics })));
    };
    socket.onmessage = (message) => {
      if (socket !== this.socket) return;
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      this.receive(frame);
    };
    socket.onclose = (closed) => {
      if (socket !== this.socket) return;
      this.socket = null;
      this.ready = false;
      this.clearTimers();
      if (closed.code === 1008 && /auth/i.test(closed.reason || "")) {
        this.handlers.onDenied();
        return;
      }
      this.scheduleReconnect();
    };
  }

  receive(frame) {
    const first = this.rules.last === null;
    this.rules.receive(frame); // acks, events (to onEvent: in order, once), resync (onResync)
    switch (frame.type) {
      case "ack":
        if (frame.for === "hello") {
          this.ready = true;
          this.attempt = 0;
          this.startTimers();
          this.send({ type: "presence", state: this.presenceState });
          this.connectedOnce = true;
          this.handlers.onState("live");
          if (first) {
            // Consistent start: subscribed by this hello, the app fetches state now; events
            // arriving meanwhile wait, and only those newer than the fetch's seq apply.
            this.rules.hold();
            new Promise((resolve) => resolve(this.handlers.onReady(true))).then(
              (seq) => this.rules.release(seq),
              (error) => {
                this.rules.release(null);
                console.warn(error);
              },
            );
          } else {
            this.handlers.onReady(false);
          }
        }
        break;
      case "signal":
        this.handlers.onSignal(frame.signal);
        break;
      case "error":
        if (frame.code === "not_authenticated") this.handlers.onDenied();
        break;
      default:
        break; // pong and anything newer
    }
  }

  startTimers() {
    this.clearTimers();
    this.timers.push(setInterval(() => this.send({ type: "ping" }), PING_EVERY));
    this.timers.push(
      setInterval(() => this.send({ type: "presence", state: this.presenceState }), PRESENCE_EVERY),
    );
  }

  clearTimers() {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  /** Close the socket (if any) and reconnect with backoff: used when the network drops. */
  drop(reason) {
    if (this.stopped) return;
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    this.clearTimers();
    if (socket) socket.close(4000, reason);
    this.handlers.onState("reconnecting");
    this.scheduleReconnect();
  }

  reconnectNow() {
    clearTimeout(this.reconnectTimer);
    if (this.socket) this.socket.close(4000, "reconnecting");
    this.socket = null;
    this.attempt = 0;
    this.open();
  }

  scheduleReconnect() {
    if (this.stopped) return;
    this.handlers.onState("reconnecting");
    clearTimeout(this.reconnectTimer);
    const base = Math.min(15_000, 500 * 2 ** this.attempt);
    const delay = base / 2 + Math.random() * (base / 2); // jitter: tabs don't stampede
    this.attempt += 1;
    // A socket refused before it opens looks like any network failure: after a few tries,
    // let the app ask over HTTP whether the session is still valid.
    if (this.attempt === 3 && this.handlers.onStuck) this.handlers.onStuck();
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }
}

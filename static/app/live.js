// The live socket, following the protocol's client rules (README "Real time"):
// hello {since}, each event once in seq order (seq <= last: duplicate; prev > last: gap →
// resume), resync → refetch over HTTP, jittered reconnect, a ping every 25 s, and
// offline/online window events close and reopen the socket (Chromium keeps sockets open
// while the network is emulated offline, and a laptop waking up may hold a dead one).

const PING_EVERY = 25_000;
const PRESENCE_EVERY = 30_000; // the server forgets a tab's presence after 60 s

export class Live {
  /**
   * handlers: onEvent(event), onSignal(signal), onResync(), onState("connecting" |
   * "live" | "reconnecting"), onReady(isFirst), onDenied() (the session is gone)
   */
  constructor(handlers, topics = ["inbox", "presence"]) {
    this.handlers = handlers;
    this.topics = topics;
    this.last = null; // the seq of the last event applied: the resume point
    this.resuming = false;
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
      const hello = { type: "hello", topics: this.topics };
      if (this.last !== null) hello.since = this.last;
      socket.send(JSON.stringify(hello));
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
    switch (frame.type) {
      case "ack":
        if (frame.for === "hello") {
          this.ready = true;
          this.attempt = 0;
          const first = this.last === null;
          if (first) this.last = frame.seq;
          this.resuming = false;
          this.startTimers();
          this.send({ type: "presence", state: this.presenceState });
          this.connectedOnce = true;
          this.handlers.onState("live");
          this.handlers.onReady(first);
        } else if (frame.for === "resume") {
          this.resuming = false;
        }
        break;
      case "event":
        this.receiveEvent(frame);
        break;
      case "signal":
        this.handlers.onSignal(frame.signal);
        break;
      case "resync":
        // What we missed is older than the replay log: refetch, continue from frame.seq.
        this.last = frame.seq;
        this.resuming = false;
        this.handlers.onResync();
        break;
      case "error":
        if (frame.code === "not_authenticated") this.handlers.onDenied();
        break;
      default:
        break; // pong and anything newer
    }
  }

  receiveEvent(frame) {
    const event = frame.event;
    const last = this.last === null ? event.seq - 1 : this.last;
    if (event.seq <= last) return; // a duplicate: a replay overlapping what came
    const prev = typeof frame.prev === "number" ? frame.prev : event.seq - 1;
    if (prev > last) {
      // A gap: something meant for us is missing. Ask once; the replay brings this too.
      if (!this.resuming) {
        this.resuming = true;
        this.send({ type: "resume", since: last });
      }
      return;
    }
    this.last = event.seq;
    this.handlers.onEvent(event);
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

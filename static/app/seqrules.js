// The live protocol's client rules (README "Real time": Client rules, Consistent start), apart
// from the socket so the protocol cases in tests/protocol/cases.json run on this very code:
//
// * seq <= last: a duplicate (a replay overlapping what came), ignored.
// * prev > last: a gap; send `resume {since: last}` once, until the server acknowledges it
//   (or a new socket's hello supersedes it). Without `prev`, seq - 1.
// * otherwise the event is accepted and last = seq.
// * hold() while state is fetched over HTTP parks accepted events; release(seq) with the seq
//   that state was read at hands on only the newer ones.
// * resync {seq}: what was missed is older than the replay log: last = seq, hold, refetch,
//   and release at the refetched state's seq (or the resync's, if that is newer or it failed).

/** The seq to release a hold with after several fetches: the oldest of their seqs, since an
 * event newer than one of them is news to that one (and applying it again to the others is
 * harmless), or null when one of them has no seq to give. */
export function oldestSeq(seqs) {
  if (!seqs.length || !seqs.every((seq) => typeof seq === "number")) return null;
  return Math.min(...seqs);
}

/**
 * apply(event): hand an event to the app, in seq order, each once.
 * send(frame): send a resume frame on the socket.
 * refetch(): fetch state over HTTP after a resync; a promise of the seq it was read at.
 * last: the resume point to start from (null: a fresh start, taken from the hello's ack).
 */
export function createSequencer({ apply, send, refetch }, last = null) {
  let resuming = false;
  let holds = 0;
  let floor = 0; // parked events at or below it are in the fetched state already
  let parked = [];

  function accept(frame) {
    const event = frame.event;
    const known = last === null ? event.seq - 1 : last;
    if (event.seq <= known) return;
    const prev = typeof frame.prev === "number" ? frame.prev : event.seq - 1;
    if (prev > known) {
      if (!resuming) {
        resuming = true;
        send({ type: "resume", since: known });
      }
      return;
    }
    last = event.seq;
    if (holds) parked.push(event);
    else apply(event);
  }

  const rules = {
    get last() {
      return last;
    },

    /** The hello for a new socket, with `fields` (topics, token): replay after `last`. */
    hello(fields = {}) {
      resuming = false; // a resume sent on the old socket died with it
      const frame = { type: "hello", ...fields };
      if (last !== null) frame.since = last;
      return frame;
    },

    /** Act on an ack, event or resync frame; other frames are the app's alone. */
    receive(frame) {
      if (frame.type === "ack") {
        // A fresh start begins where the server is: the hello's ack says that seq.
        if (frame.for === "hello" && last === null && typeof frame.seq === "number") {
          last = frame.seq;
        }
        if (frame.for === "hello" || frame.for === "resume") resuming = false;
      } else if (frame.type === "event") {
        accept(frame);
      } else if (frame.type === "resync") {
        last = frame.seq;
        resuming = false;
        rules.hold();
        Promise.resolve()
          .then(refetch)
          .then(
            (seq) => rules.release(Math.max(frame.seq, typeof seq === "number" ? seq : 0)),
            () => rules.release(frame.seq),
          );
      }
    },

    /** Ask for a replay of what came after `last`: for a subscription made after hello, whose
     * topic's earlier events no replay asked before it could include. */
    resume() {
      if (last === null) return;
      resuming = true;
      send({ type: "resume", since: last });
    },

    hold() {
      holds += 1;
    },

    /** The held fetch answered with the seq its state was read at (null: it failed). */
    release(seq) {
      const watermark = typeof seq === "number" ? seq : 0;
      floor = Math.max(floor, watermark);
      last = Math.max(last === null ? 0 : last, watermark);
      holds = Math.max(0, holds - 1);
      if (holds) return;
      const events = parked;
      parked = [];
      for (const event of events) if (event.seq > floor) apply(event);
    },
  };
  return rules;
}

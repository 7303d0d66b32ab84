// Unsent replies and notes, per ticket, in localStorage: a reload, an expired session or a
// dropped network never loses what an agent was typing.

const PREFIX = "tandem.draft.";

function key(ticketId) {
  return PREFIX + ticketId;
}

export function loadDraft(ticketId) {
  try {
    const raw = localStorage.getItem(key(ticketId));
    if (!raw) return { text: "", kind: "message" };
    const draft = JSON.parse(raw);
    return { text: String(draft.text || ""), kind: draft.kind === "note" ? "note" : "message" };
  } catch {
    return { text: "", kind: "message" };
  }
}

export function saveDraft(ticketId, draft) {
  try {
    if (!draft.text) localStorage.removeItem(key(ticketId));
    else localStorage.setItem(key(ticketId), JSON.stringify({ ...draft, at: Date.now() }));
  } catch {
    // storage full or disabled: the draft lives only in the page
  }
}

export function clearDraft(ticketId) {
  try {
    localStorage.removeItem(key(ticketId));
  } catch {
    // nothing to clear
  }
}

// Words and numbers for people: ages, labels, and what a change did.

import { memberName, state } from "./store.js";

export const STATUSES = ["open", "pending", "snoozed", "resolved", "closed"];
export const PRIORITIES = ["low", "normal", "high", "urgent"];
export const CHANNELS = ["webchat", "email", "whatsapp", "api"];

export function age(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`;
}

export function since(iso) {
  if (!iso) return "";
  return age((Date.now() - Date.parse(iso)) / 1000);
}

export function clock(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return date.toLocaleString([], { hour: "2-digit", minute: "2-digit", month: "short", day: "numeric" });
}

/** A moment in the viewer's local time, with the weekday: "Tue, Jan 15, 02:30 PM". */
export function localTime(value) {
  if (!value) return "";
  return new Date(value).toLocaleString([], { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

/** The value a `datetime-local` input uses for `date` in local time: "2030-01-15T14:30". */
export function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return age(seconds);
}

export function teamName(teamId) {
  if (!teamId) return "No team";
  const team = state.teams.find((t) => t.id === teamId);
  return team ? team.name : "Unknown team";
}

const FIELD_WORDS = {
  status: "status",
  priority: "priority",
  assignee_id: "assignee",
  team_id: "team",
  tags: "tags",
};

export function fieldValue(field, value) {
  if (field === "assignee_id") return value ? memberName(value) : "nobody";
  if (field === "team_id") return value ? teamName(value) : "no team";
  if (field === "tags") return value && value.length ? value.join(", ") : "no tags";
  return String(value ?? "—");
}

/** "status to pending, assignee to Bo" for the fields that differ between two tickets. */
export function describeDifferences(before, after) {
  const parts = [];
  for (const field of Object.keys(FIELD_WORDS)) {
    const a = JSON.stringify(before ? before[field] : null);
    const b = JSON.stringify(after[field]);
    if (a !== b) parts.push(`${FIELD_WORDS[field]} to ${fieldValue(field, after[field])}`);
  }
  return parts;
}

export function describeChange(field, value) {
  return `${FIELD_WORDS[field] || field} to ${fieldValue(field, value)}`;
}

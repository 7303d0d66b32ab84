// What a new workspace has left to set up, shown where an empty inbox would be blank.

/** A node to show in an empty inbox, or null when there is nothing to guide. */
export function emptyInboxGuide() {
  return null;
}

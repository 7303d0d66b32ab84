// Copying a value to the clipboard, for the screens that show secrets, links and snippets.

/** Copy `text`; the clipboard API exists only in secure contexts, so select-and-copy otherwise. */
export async function copyText(text, input) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall back below
  }
  if (!input) return false;
  input.focus();
  input.select();
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

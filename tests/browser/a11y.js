// An accessibility audit run inside the page: every visible control has an accessible name,
// and visible text meets WCAG AA contrast against the background it is drawn on. Returns a
// list of problems, each naming the element. `root` may be a document or a shadow root.
(root) => {
  const problems = [];
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const describe = (el) =>
    el.tagName.toLowerCase() +
    (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") +
    ' "' + (el.textContent || el.value || "").trim().slice(0, 40) + '"';
  const named = (el) =>
    (el.labels && el.labels.length > 0) ||
    !!(el.getAttribute("aria-label") || "").trim() ||
    !!el.getAttribute("aria-labelledby") ||
    !!(el.getAttribute("title") || "").trim();

  for (const el of root.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (visible(el) && !named(el)) problems.push("control without a label: " + describe(el));
  }
  for (const el of root.querySelectorAll("button, a[href], [role=button]")) {
    if (visible(el) && !named(el) && !(el.textContent || "").trim()) {
      problems.push("button or link without a name: " + describe(el));
    }
  }
  for (const el of root.querySelectorAll("svg[role=img]")) {
    if (!named(el) && !el.querySelector("title")) problems.push("image without a name: " + describe(el));
  }

  const rgba = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat(1);
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement || (node.getRootNode() && node.getRootNode().host)) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none") return null; // cannot tell
      const colour = rgba(style.backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reduceRight((under, layer) => over(layer, under), [255, 255, 255, 1]);
  };
  const luminance = ([r, g, b]) => {
    const channel = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };

  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const el = text.parentElement;
    if (!el || checked.has(el) || !text.textContent.trim() || !visible(el)) continue;
    const box = el.getBoundingClientRect();
    if (box.right <= 0 || box.bottom <= 0) continue; // moved off screen until focused
    if (el.closest("[disabled], [aria-disabled=true], option")) continue; // exempt by WCAG
    checked.add(el);
    const style = getComputedStyle(el);
    const back = background(el);
    if (!back) continue;
    const front = over(rgba(style.color), back);
    const size = parseFloat(style.fontSize);
    const bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const needed = large ? 3 : 4.5;
    const got = ratio(front, back);
    if (got < needed) {
      problems.push(`contrast ${got.toFixed(2)} < ${needed}: ${describe(el)} (${style.color} on rgb(${back.slice(0, 3).map(Math.round).join(",")}))`);
    }
  }
  return problems;
}

// Building DOM without ever parsing data as HTML: every string becomes a text node.

/**
 * h("button", {class: "x", onclick: fn, "aria-label": "..."}, "text", child, [more])
 * Props: `class`, `text`, `dataset` (object), `on<event>` handlers, boolean and string
 * attributes. Children: nodes, strings (as text), arrays, null/false (skipped).
 */
export function h(tag, props = {}, ...children) {
  const node = tag === "svg" || props.svg
    ? document.createElementNS("http://www.w3.org/2000/svg", tag)
    : document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false || key === "svg") continue;
    if (key === "class") node.setAttribute("class", value);
    else if (key === "text") node.textContent = String(value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else if (key === "value" && "value" in node) node.value = value;
    else if (key === "checked" || key === "selected" || key === "disabled") {
      node[key] = Boolean(value);
    } else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** An SVG element (namespaced); same props as `h`. */
export function s(tag, props = {}, ...children) {
  return h(tag, { ...props, svg: true }, ...children);
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

/** Replace the children of `node` with `children`. */
export function mount(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** Keep focus and caret in `root` across a re-render, when the focused element has an id. */
export function preservingFocus(root, render) {
  const active = document.activeElement;
  const id = active && root.contains(active) ? active.id : null;
  render();
  if (id) {
    const again = document.getElementById(id);
    if (again && again !== document.activeElement) again.focus({ preventScroll: true });
  }
}

// Notes that mention me (#/mentions).

import { h, mount } from "../dom.js";

export function createMentionsView(root) {
  return {
    open() {},
    render() {
      mount(root, h("h2", {}, "Mentions"));
    },
  };
}

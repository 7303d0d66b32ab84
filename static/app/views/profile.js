// The profile of the person logged in (#/profile).

import { h, mount } from "../dom.js";
import { state } from "../store.js";

export function createProfileView(root) {
  return {
    open() {},
    render() {
      mount(root, h("h2", {}, "Profile"), h("p", {}, state.me.name));
    },
  };
}

"""The shared protocol cases (tests/protocol/cases.json) against the two browser apps' rules, in
real Chromium: the agent app's `static/app/seqrules.js` and the widget's own copy inside
`static/widget.js`, both as the Tandem server serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page

from tests.protocol import case_ids, load_cases

pytestmark = pytest.mark.browser

TEMPLATE, CASES = load_cases()
PAGE = "/protocol-cases.html"
# Not a workspace: the widget's session is refused and it stays idle; only its rules are used.
NO_WORKSPACE = "000000000000000000000000"

# The harness: `create` is an implementation's sequencer factory. A `fetch` step holds it as the
# app does before its HTTP fetch; a `fetched` step answers the oldest outstanding fetch (the
# app's, or a refetch the rules asked for). After each step a macrotask turn lets a refetch's
# promise reach the rules.
HARNESS = """
const wire = (frame) => {
  const out = { type: frame.type };
  if (frame.since !== undefined && frame.since !== null) out.since = frame.since;
  return out;
};
window.runCase = async (name, template, kase) => {
  const create = window.implementations[name];
  const applied = [], sent = [], fetches = [];
  let refetches = 0;
  const rules = create({
    apply: (event) => applied.push(event.seq),
    send: (frame) => sent.push(wire(frame)),
    refetch: () => {
      refetches += 1;
      return new Promise((resolve) => fetches.push(resolve));
    },
  }, kase.start.last);
  for (const step of kase.steps) {
    const [[kind, value], ...others] = Object.entries(step);
    if (others.length) throw new Error("one action per step: " + JSON.stringify(step));
    if (kind === "connect") sent.push(wire(rules.hello({ topics: [] })));
    else if (kind === "drop") {} // the next socket's hello is all that follows from it
    else if (kind === "receive") {
      const event = value.type === "event" ? { ...template, ...value.event } : undefined;
      rules.receive(event ? { ...value, event } : value);
    } else if (kind === "fetch") {
      rules.hold();
      fetches.push((seq) => rules.release(seq));
    } else if (kind === "fetched") fetches.shift()(value);
    else throw new Error("unknown step " + kind);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  return { applied, sent, refetches, last: rules.last };
};
"""

HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Protocol cases</title></head>
<body>
<script>window.globalsBefore = Object.keys(window);</script>
<script src="/widget.js" data-workspace="{NO_WORKSPACE}"></script>
<script>window.globalsAfter = Object.keys(window);</script>
<script type="module">
  import {{ createSequencer }} from "/app/seqrules.js";
  window.implementations = {{ "agent app": createSequencer, widget: window.Tandem._sequencer }};
  {HARNESS}
</script>
</body></html>"""


@pytest.fixture(scope="module")
async def rules_page(browser: Browser, tandem_url: str) -> AsyncIterator[Page]:
    """A page on Tandem's own origin loading the real served files; the page itself is made
    here, since no such page belongs in the product."""
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.route(
            tandem_url + PAGE,
            lambda route: route.fulfill(status=200, content_type="text/html", body=HTML),
        )
        await page.goto(tandem_url + PAGE)
        await page.wait_for_function("window.runCase !== undefined")
        yield page
    finally:
        await context.close()


@pytest.mark.parametrize("implementation", ["agent app", "widget"])
@pytest.mark.parametrize("case", CASES, ids=case_ids(CASES))
async def test_the_browser_rules_follow_the_case(
    rules_page: Page, implementation: str, case: dict[str, Any]
) -> None:
    outcome = await rules_page.evaluate(
        "([name, template, kase]) => window.runCase(name, template, kase)",
        [implementation, TEMPLATE, case],
    )
    assert outcome == case["expect"]


async def test_the_widget_shows_its_rules_only_on_its_own_api_object(rules_page: Page) -> None:
    added = await rules_page.evaluate(
        "window.globalsAfter.filter((name) => !window.globalsBefore.includes(name)"
        " && name !== 'globalsBefore').sort()"
    )
    assert added == ["Tandem", "__tandemWidget"]
    # Not enumerable: a host page listing the widget's API sees only what the README documents.
    assert "_sequencer" not in await rules_page.evaluate("Object.keys(window.Tandem)")
    assert await rules_page.evaluate("typeof window.Tandem._sequencer") == "function"

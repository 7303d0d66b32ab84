"""Files on messages in real Chromium: an agent attaches pictures and documents to a reply and
sees them in the thread; a widget visitor on a customer's site sends a picture the agent sees,
and sees the agent's picture in the widget. Refused files say why."""

from __future__ import annotations

import struct
import uuid
import zlib
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, Response, expect

from tests.apiclient import sign_up
from tests.browser.conftest import HostSite
from tests.browser.test_inbox_browser import email_of, log_in, new_ticket

pytestmark = pytest.mark.browser

EXE = b"MZ" + bytes(254)  # a Windows executable's signature, whatever its name says


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def upload(name: str, mime: str, data: bytes) -> dict[str, str | bytes]:
    return {"name": name, "mimeType": mime, "buffer": data}


async def shows_picture(image: Locator) -> None:
    """The picture is on screen and its bytes really decoded."""
    await expect(image).to_be_visible()
    handle = await image.element_handle()
    await image.page.wait_for_function(
        "i => i.isConnected && i.complete && i.naturalWidth > 0", arg=handle
    )


async def open_ticket(page: Page, ticket_id: str) -> None:
    await page.evaluate("id => { location.hash = '#/tickets/' + id; }", ticket_id)
    await expect(page.locator(".thread[data-drawn='yes'] .msg").first).to_be_visible()


def chips(page: Page) -> Locator:
    return page.locator("#composer-files .file-chip")


async def test_an_agent_attaches_a_picture_and_a_document_and_a_refused_file_says_why(
    browser: Browser, tandem_url: str, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    ticket = await new_ticket(owner, "Broken lid", "The lid arrived cracked.")
    context, page = await log_in(
        browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
    )
    try:
        await open_ticket(page, ticket["id"])
        await page.locator("#composer-file").set_input_files(
            [
                upload("label.png", "image/png", png(40, 30, (200, 30, 30))),
                upload("steps.txt", "text/plain", b"1. Open the box\n2. Take a photo\n"),
            ]
        )
        await expect(chips(page)).to_have_count(2)
        await expect(chips(page).filter(has_text="label.png")).not_to_contain_text("Uploading")
        await expect(chips(page).filter(has_text="steps.txt")).to_contain_text("32 bytes")

        # A file Tandem does not take is refused at once, with the server's reason.
        await page.locator("#composer-file").set_input_files(
            upload("tool.exe", "application/x-msdownload", EXE)
        )
        refused = chips(page).filter(has_text="tool.exe")
        await expect(refused.get_by_role("alert")).to_have_text(
            "Not attached: type not allowed: application/x-msdownload"
        )
        await refused.get_by_role("button", name="Remove tool.exe").click()
        await expect(chips(page)).to_have_count(2)

        await page.get_by_label("Reply to the customer").fill("Here is the return label.")
        await page.get_by_role("button", name="Send reply").click()
        reply = page.locator(".msg-out", has_text="Here is the return label.")
        await expect(reply).to_be_visible()
        await expect(chips(page)).to_have_count(0)
        await expect(page.locator("#composer-files")).to_be_hidden()

        # The picture as a thumbnail that opens full size; the text file as a download.
        thumb = reply.get_by_role("img", name="label.png")
        await shows_picture(thumb)
        full = reply.get_by_role("link", name="label.png (opens full size)")
        await expect(full).to_have_attribute("target", "_blank")
        document = reply.get_by_role("link", name="steps.txt · 32 bytes")
        await expect(document).to_be_visible()
        href = await document.get_attribute("href")
        assert href is not None
        assert href.startswith("/api/v1/attachments/")
        downloaded = await page.request.get(tandem_url + href)
        assert downloaded.ok
        assert await downloaded.body() == b"1. Open the box\n2. Take a photo\n"
        await page.screenshot(path=str(artifacts_dir / "attachments-agent.png"))

        # A note with a file and no text.
        await page.locator("#kind-note").check()
        await page.locator("#composer-file").set_input_files(
            upload("receipt.png", "image/png", png(8, 8, (20, 20, 200)))
        )
        await expect(chips(page)).not_to_contain_text("Uploading")
        await page.get_by_role("button", name="Add note").click()
        note = page.locator(".msg-note").filter(has=page.get_by_role("img", name="receipt.png"))
        await shows_picture(note.get_by_role("img", name="receipt.png"))

        detail = (await owner.get(f"/tickets/{ticket['id']}")).json()
        files = [[a["filename"] for a in m["attachments"]] for m in detail["messages"]]
        assert ["label.png", "steps.txt"] in files
        assert ["receipt.png"] in files
    finally:
        await context.close()
        await owner.aclose()


async def test_a_visitor_and_an_agent_exchange_pictures_through_the_widget(
    browser: Browser, tandem_url: str, host_site: HostSite, artifacts_dir: Path
) -> None:
    owner = await sign_up(tandem_url)
    allowed = await owner.patch("/workspace", json={"allowed_origins": [host_site.url]})
    assert allowed.status_code == 200, allowed.text
    workspace_id = allowed.json()["id"]
    shop = host_site.page(
        f"files-{uuid.uuid4().hex[:8]}.html",
        f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
</head><body><h1>The shop</h1><script src="{tandem_url}/widget.js"
data-workspace="{workspace_id}" async></script></body></html>""",
    )
    visitor_context = await browser.new_context(viewport={"width": 1000, "height": 720})
    visitor_context.set_default_timeout(10_000)
    agent_context = None
    try:
        visitor = await visitor_context.new_page()
        await visitor.goto(shop)
        await visitor.get_by_role("button", name="Open chat").click()
        await expect(visitor.get_by_role("dialog", name="Chat")).to_be_visible()
        widget_file = visitor.locator("tandem-chat input[type=file]")
        widget_chips = visitor.locator("tandem-chat ul.f li")

        # A file the workspace does not take: the visitor is told why, and nothing is sent.
        await widget_file.set_input_files(upload("tool.exe", "application/x-msdownload", EXE))
        await expect(widget_chips.get_by_role("alert")).to_have_text(
            "Not attached: type not allowed: application/x-msdownload"
        )
        await visitor.get_by_role("button", name="Remove tool.exe").click()
        await expect(widget_chips).to_have_count(0)

        await expect(visitor.get_by_role("button", name="Attach a file")).to_be_visible()
        await widget_file.set_input_files(
            upload("scratch.png", "image/png", png(64, 48, (30, 160, 60)))
        )
        await expect(widget_chips).to_have_count(1)
        await expect(widget_chips).not_to_contain_text("Uploading")
        box = visitor.get_by_role("textbox", name="Message")
        await box.fill("The scratch on the door")
        async with visitor.expect_response(
            lambda r: r.request.method == "POST" and r.url.endswith("/api/v1/widget/messages")
        ) as answer:
            await box.press("Enter")
        response: Response = await answer.value
        assert response.status == 201, await response.text()
        ticket_id: str = (await response.json())["conversation_id"]
        await expect(widget_chips).to_have_count(0)
        mine = visitor.locator("tandem-chat li.in", has_text="The scratch on the door")
        await shows_picture(mine.get_by_role("img", name="scratch.png"))

        # The agent sees the visitor's picture in the ticket.
        agent_context, agent = await log_in(
            browser, tandem_url, owner.workspace_slug, email_of(owner, "owner")
        )
        await open_ticket(agent, ticket_id)
        incoming = agent.locator(".msg-in", has_text="The scratch on the door")
        await shows_picture(incoming.get_by_role("img", name="scratch.png"))

        # The agent answers with a picture alone; it shows in the widget, fetched with the
        # visitor's token.
        await agent.locator("#composer-file").set_input_files(
            upload("fixed.png", "image/png", png(50, 50, (240, 200, 0)))
        )
        await expect(chips(agent)).to_have_count(1)
        await expect(chips(agent)).not_to_contain_text("Uploading")
        await agent.get_by_role("button", name="Send reply").click()
        await shows_picture(agent.locator(".msg-out").get_by_role("img", name="fixed.png"))

        theirs = visitor.locator("tandem-chat li.out img[alt='fixed.png']")
        await shows_picture(theirs)
        assert (await theirs.get_attribute("src") or "").startswith("blob:")
        await visitor.screenshot(path=str(artifacts_dir / "attachments-widget.png"))

        # Closing the panel lets the pictures go; opening it shows them again.
        await visitor.get_by_role("button", name="Minimize chat").click()
        assert await theirs.get_attribute("src") is None
        await visitor.get_by_role("button", name="Open chat").click()
        await shows_picture(theirs)
    finally:
        if agent_context is not None:
            await agent_context.close()
        await visitor_context.close()
        await owner.aclose()

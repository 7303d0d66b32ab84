from __future__ import annotations

import pytest

from app.domain.attachments import (
    DOCX,
    MAX_ATTACHMENT_BYTES,
    Accepted,
    Refused,
    check,
    content_disposition,
    inline,
    safe_filename,
    sniff,
)

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(40)
JPEG_BYTES = b"\xff\xd8\xff\xe0" + bytes(40)
GIF_BYTES = b"GIF89a" + bytes(40)
WEBP_BYTES = b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(40)
PDF_BYTES = b"%PDF-1.7\n" + bytes(40)
ZIP_BYTES = b"PK\x03\x04" + bytes(40)
ODT_BYTES = b"PK\x03\x04" + bytes(26) + b"mimetype" + b"application/vnd.oasis.opendocument.text"
OGG_BYTES = b"OggS" + bytes(40)
MP4_BYTES = b"\x00\x00\x00\x18ftypisom" + bytes(40)
M4A_BYTES = b"\x00\x00\x00\x18ftypM4A " + bytes(40)
THREE_GP_BYTES = b"\x00\x00\x00\x18ftyp3gp4" + bytes(40)
EXE_BYTES = b"MZ\x90\x00" + bytes(40)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (PNG_BYTES, "image/png"),
        (JPEG_BYTES, "image/jpeg"),
        (GIF_BYTES, "image/gif"),
        (WEBP_BYTES, "image/webp"),
        (PDF_BYTES, "application/pdf"),
        (ZIP_BYTES, "application/zip"),
        (ODT_BYTES, "application/vnd.oasis.opendocument.text"),
        (OGG_BYTES, "audio/ogg"),
        (MP4_BYTES, "video/mp4"),
        (M4A_BYTES, "audio/mp4"),
        (THREE_GP_BYTES, "video/3gpp"),
        (EXE_BYTES, "application/x-msdownload"),
        (b"junk\r\n%PDF-1.4", "application/pdf"),
        (b"hello, world", None),
        (b"MZ is how this note starts", None),
        (b"ID3 tags are in this note", None),
        (b"....ftyp, said the note", None),
        (b"", None),
    ],
)
def test_sniff_knows_formats_by_their_first_bytes(data: bytes, expected: str | None) -> None:
    assert sniff(data) == expected


def test_an_image_is_taken_as_what_its_bytes_are() -> None:
    assert check("cat.png", "image/png", PNG_BYTES) == Accepted("image/png", "cat.png")
    # Declared as one image, really another: the bytes win.
    assert check("cat.png", "image/png", JPEG_BYTES) == Accepted("image/jpeg", "cat.png")
    assert check("cat.jpg", "Image/JPG; q=1", JPEG_BYTES) == Accepted("image/jpeg", "cat.jpg")


@pytest.mark.parametrize("data", [b"<svg onload=alert(1)>", b"<html><script>", bytes(100)])
def test_an_image_whose_bytes_are_not_one_is_refused(data: bytes) -> None:
    result = check("cat.png", "image/png", data)

    assert result == Refused("not an image: the content is not image/png")


def test_a_lying_type_is_caught() -> None:
    assert check("notes.txt", "text/plain", PDF_BYTES) == Accepted("application/pdf", "notes.txt")
    assert check("photo.jpg", "image/jpeg", PDF_BYTES) == Accepted("application/pdf", "photo.jpg")
    assert check("song.mp3", "audio/mpeg", OGG_BYTES) == Accepted("audio/ogg", "song.mp3")
    assert check("invoice.pdf", "application/pdf", EXE_BYTES) == Refused(
        "type not allowed: application/x-msdownload"
    )
    assert check("invoice.pdf", "application/pdf", b"just some text") == Refused(
        "the content is not application/pdf"
    )
    assert check("report.docx", DOCX, EXE_BYTES) == Refused(
        "type not allowed: application/x-msdownload"
    )
    assert check("report.docx", DOCX, b"MZ, but text") == Refused(f"the content is not {DOCX}")
    assert check("a.txt", "text/plain", b"\x00\x01\x02binary") == Refused(
        "the content is not text, as text/plain would be"
    )


def test_a_container_keeps_the_more_precise_declared_type() -> None:
    assert check("report.docx", DOCX, ZIP_BYTES) == Accepted(DOCX, "report.docx")
    assert check("voice.m4a", "audio/x-m4a", MP4_BYTES) == Accepted("audio/mp4", "voice.m4a")
    assert check("clip.3gp", "video/mp4", THREE_GP_BYTES) == Accepted("video/mp4", "clip.3gp")
    # A zip declared as a PDF is a zip.
    assert check("x.pdf", "application/pdf", ZIP_BYTES) == Accepted("application/zip", "x.pdf")


def test_text_without_a_signature_is_taken_as_declared() -> None:
    assert check("a.csv", "text/csv", b"name,email\nAda,ada@example.com\n") == Accepted(
        "text/csv", "a.csv"
    )
    latin1 = "café,crème\n".encode("latin-1")
    assert check("a.csv", "text/csv", latin1) == Accepted("text/csv", "a.csv")
    assert check("a.mp3", "audio/mpeg", b"\xff\xfb\x90\x00" + bytes(40)) == Accepted(
        "audio/mpeg", "a.mp3"
    )


def test_an_unknown_declared_type_falls_back_to_the_extension_then_refuses() -> None:
    assert check("notes.txt", "", b"hello") == Accepted("text/plain", "notes.txt")
    assert check("scan.pdf", "application/octet-stream", PDF_BYTES) == Accepted(
        "application/pdf", "scan.pdf"
    )
    assert check("blob", "application/octet-stream", b"\x01\x02") == Refused(
        "type not allowed: application/octet-stream"
    )


@pytest.mark.parametrize(
    ("declared", "data"),
    [
        ("application/x-msdownload", EXE_BYTES),
        ("image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
        ("text/html", b"<html></html>"),
        ("application/javascript", b"alert(1)"),
    ],
)
def test_types_off_the_list_are_refused(declared: str, data: bytes) -> None:
    assert check("file", declared, data) == Refused(f"type not allowed: {declared}")


def test_the_size_limit_says_how_large_and_what_the_limit_is() -> None:
    too_big = bytes(int(31.2 * 1024 * 1024))

    assert MAX_ATTACHMENT_BYTES == 25 * 1024 * 1024
    assert check("big.pdf", "application/pdf", too_big) == Refused(
        "too large: 31.2 MB, the limit is 25 MB"
    )
    assert check("a.pdf", "application/pdf", bytes(25 * 1024 * 1024 + 1)) == Refused(
        "too large: 25.1 MB, the limit is 25 MB"
    )
    assert check("a.txt", "text/plain", b"12345", limit=4) == Refused(
        "too large: 0.1 MB, the limit is 0 MB"
    )
    assert isinstance(check("a.txt", "text/plain", b"1234", limit=4), Accepted)
    assert check("b.pdf", "application/pdf", too_big, limit=10 * 1024 * 1024) == Refused(
        "too large: 31.2 MB, the limit is 10 MB"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ada\\Desktop\\invoice.pdf", "invoice.pdf"),
        ("/var/tmp/", "attachment"),
        ("..", "attachment"),
        ("", "attachment"),
        ("\x00\x1f\x7f", "attachment"),
        ("bad\nname\r.txt", "badname.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),  # no right-to-left override
        ('what?<is>:"this"|*.txt', "what__is___this___.txt"),
        ("  spaced   out  .txt  ", "spaced out .txt"),
        (".bashrc", "bashrc"),
        ("CON.txt", "_CON.txt"),
        ("Übersicht \u2013 März.xlsx", "Übersicht \u2013 März.xlsx"),
        ("U\u0308ber.txt", "\u00dcber.txt"),  # decomposed becomes composed
        ("写真.png", "写真.png"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_a_long_filename_is_cut_keeping_its_extension() -> None:
    name = safe_filename("a" * 300 + ".pdf")

    assert len(name) == 180
    assert name.endswith("aaa.pdf")
    assert len(safe_filename("é" * 500)) == 180


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [
        ("image/png", True),
        ("image/jpeg", True),
        ("image/gif", True),
        ("image/webp", True),
        ("IMAGE/PNG; charset=binary", True),
        ("image/svg+xml", False),
        ("text/html", False),
        ("application/xhtml+xml", False),
        ("application/pdf", False),
        ("text/plain", False),
        ("video/mp4", False),
    ],
)
def test_only_raster_images_are_shown_inline(content_type: str, shown: bool) -> None:
    assert inline(content_type) is shown


def test_content_disposition() -> None:
    assert content_disposition("report.pdf", inline=False) == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    assert content_disposition("cat.png", inline=True) == (
        "inline; filename=\"cat.png\"; filename*=UTF-8''cat.png"
    )
    assert content_disposition("Übersicht März 100%.xlsx", inline=False) == (
        'attachment; filename="Ubersicht Marz 100_.xlsx"; '
        "filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz%20100%25.xlsx"
    )
    assert content_disposition("写真.png", inline=True) == (
        "inline; filename=\"attachment.png\"; filename*=UTF-8''%E5%86%99%E7%9C%9F.png"
    )
    assert content_disposition('../a"b\\c;d.txt', inline=False) == (
        "attachment; filename=\"c;d.txt\"; filename*=UTF-8''c%3Bd.txt"
    )

"""What an attachment may be, and how it is named and served: rules on bytes, no I/O.

A file is taken when it is small enough (`MAX_ATTACHMENT_BYTES` unless a setting says
otherwise) and its type is on the allowlist. The type a browser or a channel declares is a
claim: the first bytes are checked against the formats that have a signature, so a declared
type that lies is caught. When the bytes show another kind of file, what they show wins;
an image is taken only when its bytes are one; a format with a signature (PDF, zip and the
office documents in one, Ogg, MP4) must carry it; plain text must not be binary.

Serving follows from the type: only raster images are shown inline, everything else —
SVG and HTML above all, which could run script on Tandem's origin — is a download, and the
filename goes into the header in its RFC 6266 form.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024
MAX_FILENAME_CHARS = 180
FALLBACK_FILENAME = "attachment"

PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
PDF = "application/pdf"
ZIP = "application/zip"
TEXT = "text/plain"
CSV = "text/csv"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
OGG = "audio/ogg"
MP3 = "audio/mpeg"
M4A = "audio/mp4"
AAC = "audio/aac"
AMR = "audio/amr"
MP4 = "video/mp4"
THREE_GP = "video/3gpp"
OCTET_STREAM = "application/octet-stream"

RASTER_IMAGES = frozenset({PNG, JPEG, GIF, WEBP})
ALLOWED_TYPES = RASTER_IMAGES | {
    PDF,
    TEXT,
    CSV,
    DOCX,
    XLSX,
    PPTX,
    ODT,
    ZIP,
    OGG,
    MP3,
    M4A,
    AAC,
    AMR,
    MP4,
    THREE_GP,
}

# The declared types a sniffed container may honestly be: a docx is a zip, a voice note in an
# MP4 container may be declared as audio. Anything else declared over these bytes is a lie.
CONTAINERS: dict[str, frozenset[str]] = {
    ZIP: frozenset({ZIP, DOCX, XLSX, PPTX, ODT}),
    MP4: frozenset({MP4, M4A, THREE_GP}),
    M4A: frozenset({M4A, MP4}),
    THREE_GP: frozenset({THREE_GP, MP4}),
    OGG: frozenset({OGG}),
}
# Declared types whose bytes always carry a signature `sniff` knows: missing, it is a lie.
SIGNED = RASTER_IMAGES | {PDF} | frozenset(CONTAINERS) | CONTAINERS[ZIP]

ALIASES = {
    "image/jpg": JPEG,
    "image/pjpeg": JPEG,
    "image/x-png": PNG,
    "application/x-pdf": PDF,
    "application/x-zip-compressed": ZIP,
    "application/x-zip": ZIP,
    "text/comma-separated-values": CSV,
    "application/csv": CSV,
    "audio/mp3": MP3,
    "audio/x-mp3": MP3,
    "audio/x-m4a": M4A,
    "audio/m4a": M4A,
    "audio/x-aac": AAC,
    "audio/opus": OGG,
    "audio/3gpp": THREE_GP,
}

EXTENSIONS = {
    "png": PNG,
    "jpg": JPEG,
    "jpeg": JPEG,
    "gif": GIF,
    "webp": WEBP,
    "pdf": PDF,
    "txt": TEXT,
    "log": TEXT,
    "csv": CSV,
    "docx": DOCX,
    "xlsx": XLSX,
    "pptx": PPTX,
    "odt": ODT,
    "zip": ZIP,
    "ogg": OGG,
    "oga": OGG,
    "opus": OGG,
    "mp3": MP3,
    "m4a": M4A,
    "aac": AAC,
    "amr": AMR,
    "mp4": MP4,
    "3gp": THREE_GP,
}

SNIFF_BYTES = 8 * 1024  # how much of a file is looked at to tell text from binary


@dataclass(frozen=True)
class Accepted:
    content_type: str  # normalized: what the bytes are, as precisely as they tell
    filename: str  # safe_filename of the given one


@dataclass(frozen=True)
class Refused:
    reason: str  # for a person: "too large: 31.2 MB, the limit is 25 MB"


def sniff(data: bytes) -> str | None:
    """The type the first bytes show, for the formats with a signature; None for the rest.

    Also names a few formats that are never allowed (Windows and ELF executables), so a file
    declared as something harmless is refused for what it is.
    """
    head = data[:64]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if b"%PDF-" in data[:1024]:  # readers allow a little junk before the header
        return PDF
    if head.startswith(b"PK\x03\x04"):
        # An OpenDocument file starts with its stored, uncompressed `mimetype` member.
        if head[30:38] == b"mimetype" and data[38:77] == ODT.encode():
            return ODT
        return ZIP
    if head.startswith(b"OggS"):
        return OGG
    if head[4:8] == b"ftyp" and head[0] == 0:  # the first box, with its size in front
        brand = head[8:12]
        if brand.startswith(b"3g"):
            return THREE_GP
        if brand in (b"M4A ", b"M4B "):
            return M4A
        return MP4
    if head.startswith(b"#!AMR"):
        return AMR
    if head.startswith(b"ID3") and head[3:4] in (b"\x02", b"\x03", b"\x04"):
        return MP3
    if head.startswith(b"MZ") and not _is_text(data):
        return "application/x-msdownload"
    if head.startswith(b"\x7fELF"):
        return "application/x-executable"
    return None


def normalize_type(declared: str) -> str:
    """`Image/JPG; charset=x` → `image/jpeg`: lower case, no parameters, common aliases."""
    base = declared.split(";", 1)[0].strip().lower()
    return ALIASES.get(base, base)


def type_from_extension(filename: str) -> str | None:
    _, dot, extension = filename.rpartition(".")
    return EXTENSIONS.get(extension.lower()) if dot else None


# Bytes that never occur in text (the "binary data bytes" of the WHATWG MIME sniffing rules).
_BINARY_BYTES = frozenset([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x1B), *range(0x1C, 0x20)])


def _is_text(data: bytes) -> bool:
    """Text in any encoding, UTF-8 or not; UTF-16 only with its byte order mark."""
    head = data[:SNIFF_BYTES]
    if head.startswith((b"\xfe\xff", b"\xff\xfe")):
        return True
    return _BINARY_BYTES.isdisjoint(head)


def format_size(size: int, *, up: bool = False) -> str:
    """Bytes in MB (MiB: 1,048,576 bytes), one decimal place unless it is a whole number;
    `up` rounds up, so a file just over a limit never reads as the limit itself."""
    tenths = size / (1024 * 1024) * 10
    rounded = (math.ceil(tenths) if up else round(tenths)) / 10
    return f"{rounded:.0f} MB" if rounded == int(rounded) else f"{rounded:.1f} MB"


def check(
    filename: str, declared_type: str, data: bytes, limit: int = MAX_ATTACHMENT_BYTES
) -> Accepted | Refused:
    """Whether `data` may be kept as an attachment, and as what type."""
    if len(data) > limit:
        size = format_size(len(data), up=True)
        return Refused(f"too large: {size}, the limit is {format_size(limit)}")
    name = safe_filename(filename)
    declared = normalize_type(declared_type)
    if declared in ("", OCTET_STREAM):
        declared = type_from_extension(name) or OCTET_STREAM
    sniffed = sniff(data)
    if sniffed is not None:
        honest = sniffed not in RASTER_IMAGES and declared in CONTAINERS.get(sniffed, ())
        content_type = declared if honest else sniffed
    elif declared in RASTER_IMAGES:
        return Refused(f"not an image: the content is not {declared}")
    elif declared in SIGNED:
        return Refused(f"the content is not {declared}")
    elif declared in (TEXT, CSV) and not _is_text(data):
        return Refused(f"the content is not text, as {declared} would be")
    else:
        content_type = declared
    if content_type not in ALLOWED_TYPES:
        return Refused(f"type not allowed: {content_type}")
    return Accepted(content_type=content_type, filename=name)


_UNSAFE_CHARS = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,16}$")
_WINDOWS_DEVICES = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\.|$)", re.IGNORECASE)


def safe_filename(name: str) -> str:
    """A name that is safe on every disk and in every header: no directories, no control or
    direction characters, at most 180 characters with the extension kept; "attachment" when
    nothing is left."""
    name = unicodedata.normalize("NFC", name)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    name = _UNSAFE_CHARS.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" .")
    if not name:
        return FALLBACK_FILENAME
    if _WINDOWS_DEVICES.match(name):
        name = f"_{name}"
    if len(name) > MAX_FILENAME_CHARS:
        match = _EXTENSION.search(name)
        extension = match.group() if match else ""
        stem = name[: MAX_FILENAME_CHARS - len(extension)].rstrip(" .")
        name = f"{stem or FALLBACK_FILENAME}{extension}"
    return name


def inline(content_type: str) -> bool:
    """Only raster images are shown in the page; every other type is downloaded."""
    return normalize_type(content_type) in RASTER_IMAGES


# RFC 5987 attr-char beyond letters and digits: what `filename*` may carry unencoded.
_ATTR_CHARS = "!#$&+-.^_`|~"


def content_disposition(filename: str, inline: bool) -> str:
    """The Content-Disposition header value (RFC 6266): a quoted ASCII `filename` for old
    clients and the exact name as `filename*=UTF-8''…`."""
    name = safe_filename(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = "".join(c if c.isprintable() and c not in '"\\%' else "_" for c in ascii_name)
    extension = match.group() if (match := _EXTENSION.search(ascii_name)) else ""
    if not ascii_name.removesuffix(extension).strip(" ._-"):
        ascii_name = FALLBACK_FILENAME + extension
    disposition = "inline" if inline else "attachment"
    encoded = quote(name, safe=_ATTR_CHARS)
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"

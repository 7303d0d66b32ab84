"""BENCHMARKS.md is written by more than one benchmark: each owns its `## ` sections and
replaces only those, keeping the others as they are."""

from __future__ import annotations

from pathlib import Path

Section = tuple[str, list[str]]  # the "## …" heading line, and the lines up to the next one


def split(text: str) -> tuple[list[str], list[Section]]:
    """The lines before the first `## ` heading, and each section after it (headings inside
    fenced code blocks do not count)."""
    preamble: list[str] = []
    sections: list[Section] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            sections.append((line.strip(), []))
        elif sections:
            sections[-1][1].append(line)
        else:
            preamble.append(line)
    return preamble, sections


def join(preamble: list[str], sections: list[Section]) -> str:
    lines = list(preamble)
    for heading, body in sections:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [heading, *body]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n"


def keep_others(path: Path, new_text: str) -> str:
    """`new_text` (a preamble and the sections it owns), then every section of the file at
    `path` that `new_text` has no heading for, in the file's order."""
    preamble, owned = split(new_text)
    if not path.exists():
        return join(preamble, owned)
    headings = {heading for heading, _ in owned}
    _, existing = split(path.read_text())
    return join(preamble, owned + [s for s in existing if s[0] not in headings])


def replace_section(path: Path, section_text: str, default_preamble: str) -> str:
    """The file at `path` with the section in `section_text` (one `## ` heading and its body)
    put in place of the section with the same heading, or appended when there is none."""
    _, (new,) = split(section_text)
    if path.exists():
        preamble, sections = split(path.read_text())
    else:
        preamble, sections = default_preamble.splitlines(), []
    for i, (heading, _) in enumerate(sections):
        if heading == new[0]:
            sections[i] = new
            break
    else:
        sections.append(new)
    return join(preamble, sections)

"""Python code fences in Markdown: found with their positions, rewritten in place.

Only the fence's code changes; every other byte of the document stays as it was.
"""

from __future__ import annotations

import re

import msgspec

_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\r\n]*)$")
_PYTHON_INFO = frozenset({"python", "py", "python3", "pycon3", "py3"})
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s")
# Words a guide labels the old way with, in the heading or the paragraph just before a fence.
_OLD_LABEL = re.compile(r"(?i)\b(?:before|old|bad|deprecated|wrong|legacy)\b|what'?s\s+breaking|\u274c|\u2717|\U0001f6ab")
# `# BAD:` / `# OLD:` comments inside the fence.
_OLD_COMMENT = re.compile(r"(?im)^\s*#\s*(?:\u274c\s*)?(?:bad|old|before|deprecated|wrong)\b\s*[:\-]|^\s*#\s*\u274c")


class Fence(msgspec.Struct, frozen=True):
    """A Python fence: its code (indentation removed) and where that code starts in the file."""

    first_line: int  # 1-based line of the first code line
    indent: str
    code: str
    start: int  # index of the first code line in the document's lines
    end: int  # index just past the last code line
    label: str = ""  # the heading and the paragraph just before the fence (since the previous fence)

    @property
    def shows_old_pattern(self) -> bool:
        """Whether the document labels this fence as the old way (BEFORE, OLD, BAD, DEPRECATED,
        ❌, "What's Breaking", or `# BAD:` / `# OLD:` comments in the code): shown on purpose."""
        return bool(_OLD_LABEL.search(self.label) or _OLD_COMMENT.search(self.code))


def split_lines(text: str) -> list[str]:
    """The document's lines, each with its own line ending."""
    return _LINE.findall(text)


def python_fences(text: str) -> list[Fence]:
    """Every closed ```python fence (also ~~~, py, python3), in document order."""
    lines = split_lines(text)
    fences = []
    index = 0
    region = 0  # the first line after the previous fence
    while index < len(lines):
        opened = _OPEN.match(lines[index].rstrip("\r\n"))
        if opened is None:
            index += 1
            continue
        fence, indent = opened["fence"], opened["indent"]
        language = opened["info"].split()[0].lower() if opened["info"].strip() else ""
        if fence[0] == "`" and "`" in opened["info"]:
            index += 1
            continue
        closing = _closing(lines, index + 1, fence)
        if closing is None:
            break
        if language in _PYTHON_INFO:
            body = [_dedent(line, indent) for line in lines[index + 1 : closing]]
            label = _label(lines, region, index)
            fences.append(Fence(index + 2, indent, "".join(body), index + 1, closing, label))
        index = closing + 1
        region = index
    return fences


def replace_fences(text: str, fences: list[Fence], replacements: dict[int, str]) -> str:
    """`text` with the code of the `fences` (found in it) at the given `start` indexes replaced."""
    lines = split_lines(text)
    by_start = {fence.start: fence for fence in fences}
    for start in sorted(replacements, reverse=True):
        fence = by_start[start]
        code = replacements[start]
        new_lines = [fence.indent + line if line.strip() else line for line in split_lines(code)]
        lines[fence.start : fence.end] = new_lines
    return "".join(lines)


def _label(lines: list[str], region: int, opening: int) -> str:
    """The nearest heading between the previous fence and this one, and the paragraph that ends
    just before this fence."""
    heading = next((lines[i] for i in range(opening - 1, region - 1, -1) if _HEADING.match(lines[i])), "")
    paragraph = []
    for i in range(opening - 1, region - 1, -1):
        if _HEADING.match(lines[i]):
            break
        if not lines[i].strip():
            if paragraph:
                break
            continue
        paragraph.append(lines[i])
    return heading + "".join(reversed(paragraph))


def _closing(lines: list[str], start: int, fence: str) -> int | None:
    for index in range(start, len(lines)):
        stripped = lines[index].rstrip("\r\n")
        candidate = stripped.lstrip(" ")
        if len(stripped) - len(candidate) <= 3 and candidate.startswith(fence) and not candidate.strip(fence[0]).strip():
            return index
    return None


def _dedent(line: str, indent: str) -> str:
    return line[len(indent) :] if indent and line.startswith(indent) else line.lstrip(" ") if indent else line

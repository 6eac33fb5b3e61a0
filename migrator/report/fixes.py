"""The edits of a rewrite, as line replacements, attached to the findings they fix (SARIF `fixes`)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from migrator.report.data import Replacement
from migrator.results import FileResult, Finding
from migrator.sourcefile import DecodeError, SourceText


def replacements(original: bytes, rewritten: bytes) -> list[Replacement]:
    """The changed line ranges between two versions of a file."""
    try:
        before = SourceText.decode(original).text.splitlines(keepends=True)
        after = SourceText.decode(rewritten).text.splitlines(keepends=True)
    except DecodeError:
        return []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    return [
        Replacement(i1 + 1, i2 + 1, "".join(after[j1:j2]))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def fixes_by_finding(files: Sequence[FileResult], findings: Sequence[Finding]) -> dict[int, tuple[Replacement, ...]]:
    """For each fixable finding (by index in `findings`), the edits of its file that touch its
    lines; an edit spanning several findings is in each of their fixes. Edits that touch no
    finding's lines (imports added or removed) go with the file's first fixable finding, and
    with any fixable finding no edit touches, so that the distinct edits of a file's fixes
    together are its whole rewrite."""
    edits = {r.path: replacements(r.original, r.rewritten) for r in files if r.original and r.rewritten}
    fixes: dict[int, tuple[Replacement, ...]] = {}
    touched: dict[str, set[Replacement]] = {}
    for index, finding in enumerate(findings):
        if finding.fixable and finding.path in edits:
            fixes[index] = tuple(e for e in edits[finding.path] if _touches(e, finding))
            touched.setdefault(finding.path, set()).update(fixes[index])
    first: set[str] = set()
    for index in sorted(fixes):
        path = findings[index].path
        if path not in first or not fixes[index]:
            first.add(path)
            orphans = tuple(e for e in edits[path] if e not in touched[path])
            fixes[index] = tuple(sorted(set(fixes[index] + orphans), key=lambda e: e.start))
    return {index: found for index, found in fixes.items() if found}


def _touches(edit: Replacement, finding: Finding) -> bool:
    """Whether the edit replaces a line the finding spans (an insertion touches the line it precedes)."""
    last = max(edit.end - 1, edit.start)
    return edit.start <= finding.end_line and last >= finding.line
